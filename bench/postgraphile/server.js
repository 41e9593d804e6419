// PostGraphile v4 over the wanjia_bench database, started by bench/run.py for comparison.
//
// It connects as the same app role as wanjia (owns nothing, no BYPASSRLS), so the same
// row-level security binds it. The tenant comes, as in wanjia, from the verified access token
// (HS256, wanjia's secret) or, for anonymous callers, from the X-Tenant header; it reaches the
// policies as the transaction-local setting app.tenant_id (pgSettings). Read-only: mutations off.
//
// Environment: DATABASE_URL, WANJIA_SECRET_KEY, PORT; EXPORT_SCHEMA=path writes the SDL and exits.
"use strict";

const http = require("http");
const jwt = require("jsonwebtoken");
const { Pool } = require("pg");
const { postgraphile } = require("postgraphile");
const PgSimplifyInflectorPlugin = require("@graphile-contrib/pg-simplify-inflector");
const ConnectionFilterPlugin = require("postgraphile-plugin-connection-filter");

const secret = process.env.WANJIA_SECRET_KEY;
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const tenants = new Map(); // slug -> id, active offices

function tenantOf(req) {
  const header = req.headers.authorization || "";
  if (header.startsWith("Bearer ")) {
    try {
      const claims = jwt.verify(header.slice(7), secret, { algorithms: ["HS256"] });
      if (claims.typ === "access") return { "app.tenant_id": claims.tid, "app.user_id": claims.sub };
    } catch (error) {
      // An invalid token sees nothing, like a missing tenant.
    }
    return { "app.tenant_id": "" };
  }
  return { "app.tenant_id": tenants.get(req.headers["x-tenant"]) || "" };
}

async function main() {
  const { rows } = await pool.query("SELECT slug, id FROM tenants WHERE status = 'active'");
  for (const row of rows) tenants.set(row.slug, row.id);
  const exportPath = process.env.EXPORT_SCHEMA;
  const handler = postgraphile(pool, "public", {
    appendPlugins: [PgSimplifyInflectorPlugin, ConnectionFilterPlugin],
    graphileBuildOptions: { connectionFilterRelations: true },
    pgSettings: async (req) => tenantOf(req),
    disableDefaultMutations: true,
    dynamicJson: true,
    setofFunctionsContainNulls: false,
    legacyRelations: "omit",
    ignoreRBAC: false,
    disableQueryLog: true,
    graphiql: false,
    enableQueryBatching: false,
    watchPg: false,
    retryOnInitFail: false,
    exportGqlSchemaPath: exportPath || undefined,
    sortExport: true,
  });
  if (exportPath) {
    await handler.getGraphQLSchema();
    await pool.end();
    return;
  }
  const port = Number(process.env.PORT || 5000);
  http.createServer(handler).listen(port, "127.0.0.1", () => {
    process.stdout.write(`PostGraphile on http://127.0.0.1:${port}/graphql\n`);
  });
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
