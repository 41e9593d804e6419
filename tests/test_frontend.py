"""The contract as a front end consumes it: graphql-codegen (typescript, typescript-operations)
over schema/schema.graphql and every operation of the README, compiled by `tsc --strict` with
tests/frontend/check.ts, which fails to compile if a scalar came out as `any` or `unknown` or a
code as a plain string. Node and the lockfile-pinned packages of tests/frontend/ only: no
network once `npm ci` has run."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.support import frontend_installed
from tests.test_demo import README, readme_examples


def test_the_readmes_scalar_map_is_the_one_codegen_runs_with() -> None:
    frontend = frontend_installed()
    in_readme = re.search(r"const scalars = \{\n(.*?)\n\};", README.read_text(encoding="utf-8"), re.S)
    in_config = re.search(
        r"const scalars = \{\n(.*?)\n\};", (frontend / "codegen.ts").read_text(encoding="utf-8"), re.S
    )
    assert in_readme and in_config and in_readme.group(1) == in_config.group(1)


def test_generated_types_of_the_schema_and_the_readmes_operations_compile_strictly(tmp_path: Path) -> None:
    frontend = frontend_installed()
    operations = frontend / "operations"
    shutil.rmtree(operations, ignore_errors=True)
    operations.mkdir()
    examples = readme_examples()
    for number, example in enumerate(examples):
        (operations / f"readme_{number:02d}.graphql").write_text(example.document + "\n", encoding="utf-8")
    generated = frontend / "generated" / "graphql.ts"
    generated.unlink(missing_ok=True)
    codegen = subprocess.run(
        [str(frontend / "node_modules" / ".bin" / "graphql-codegen"), "--config", "codegen.ts", "--silent"],
        cwd=frontend,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert codegen.returncode == 0, codegen.stdout + codegen.stderr
    types = generated.read_text(encoding="utf-8")
    scalars = re.search(r"export type Scalars = \{(.*?)\n\};", types, re.S)
    assert scalars and not re.search(r"\b(any|unknown)\b", scalars.group(1)), scalars
    # Every README operation is named, and came out typed.
    names = [re.search(r"^(query|mutation|subscription) (\w+)", e.document, re.M) for e in examples]
    assert all(names)
    untyped = [
        name.group(2)
        for name in names
        if name is not None and f"export type {name.group(2)}{name.group(1).capitalize()} = " not in types
    ]
    assert untyped == []
    tsc = subprocess.run(
        [str(frontend / "node_modules" / ".bin" / "tsc"), "-p", "tsconfig.json"],
        cwd=frontend,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert tsc.returncode == 0, tsc.stdout + tsc.stderr
