// graphql-codegen as a front-end team runs it over the contract: the SDL and the README's
// operations (written to $WANJIA_OPERATIONS by tests/test_demo.py), into $WANJIA_GENERATED.
import type { CodegenConfig } from "@graphql-codegen/cli";

// The scalar map of the README ("Generating types for a front end"): keep the two the same
// (tests/test_demo.py compares them).
const scalars = {
  DateTime: { input: "string", output: "string" },
  Date: { input: "string", output: "string" },
  Upload: { input: "File | Blob", output: "never" },
};

const config: CodegenConfig = {
  schema: "../../schema/schema.graphql",
  documents: process.env.WANJIA_OPERATIONS ?? "operations/*.graphql",
  generates: {
    [process.env.WANJIA_GENERATED ?? "generated/graphql.ts"]: {
      plugins: ["typescript", "typescript-operations"],
      // strictScalars: a scalar missing from the map fails the generation instead of becoming `any`.
      config: { scalars, strictScalars: true, enumsAsTypes: true, useTypeImports: true },
    },
  },
};

export default config;
