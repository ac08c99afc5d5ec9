"""`ade config init` and `ade config validate`: the default configuration with its README, and
the API's located errors for a bad one."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ade.cli.commands.config import KEY_NOTES, app
from ade.db.configuration_spec import ConfigurationSpec, FieldSpec, NameDerivation


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_init_writes_the_default_configuration_and_a_readme_of_every_key(tmp_path: Path) -> None:
    target = tmp_path / "roster.json"
    code, stdout, stderr = invoke("init", str(target))
    assert code == 0, stderr
    shipped = Path("src/python/ade/db/default_configuration.json").read_text("utf-8")
    assert target.read_text("utf-8") == shipped
    readme = (tmp_path / "roster.README.md").read_text("utf-8")
    for key in KEY_NOTES:
        assert f"| `{key}` |" in readme
    assert "ade config validate roster.json" in readme
    # What init writes is valid as it is.
    assert invoke("validate", str(target))[0] == 0


def test_every_key_of_the_model_is_explained() -> None:
    keys = set(ConfigurationSpec.model_fields)
    keys |= {f"fields[].{name}" for name in FieldSpec.model_fields}
    keys |= {f"derive_names[].{name}" for name in NameDerivation.model_fields}
    assert keys == set(KEY_NOTES)


def test_init_never_overwrites_without_force(tmp_path: Path) -> None:
    target = tmp_path / "c.json"
    target.write_text("{}", "utf-8")
    code, _, stderr = invoke("init", str(target))
    assert code == 1 and "already exist" in stderr and target.read_text("utf-8") == "{}"
    assert not (tmp_path / "c.README.md").exists()
    assert invoke("init", str(target), "--force")[0] == 0
    assert json.loads(target.read_text("utf-8"))["name"] == "people-roster"


BAD = {  # tests/api/test_configurations.py posts the same to the API
    "fields": [{"name": "a", "type": "nope"}, {"name": "a"}],
    "match_threshold": 2,
    "colour": "red",
}


def test_validate_prints_each_located_error_and_exits_1(tmp_path: Path) -> None:
    target = tmp_path / "bad.json"
    target.write_text(json.dumps(BAD), "utf-8")
    code, stdout, stderr = invoke("validate", str(target))
    assert code == 1 and stdout == ""
    lines = stderr.splitlines()
    assert lines[0].startswith(f"{target}: fields.0.type: Input should be 'text', ")
    assert any(line.startswith(f"{target}: match_threshold: ") for line in lines)
    assert f"{target}: colour: Extra inputs are not permitted" in lines


def test_validate_duplicate_field_is_a_top_level_error(tmp_path: Path) -> None:
    target = tmp_path / "dup.json"
    target.write_text('{"fields": [{"name": "a"}, {"name": "a"}]}', "utf-8")
    code, _, stderr = invoke("validate", str(target))
    assert code == 1
    assert stderr == (
        f"{target}: (top level): Value error, fields[1]: duplicate field name 'a' "
        "(first defined at fields[0])\n"
    )


def test_validate_malformed_json_and_missing_file(tmp_path: Path) -> None:
    target = tmp_path / "broken.json"
    target.write_text('{"fields": [', "utf-8")
    code, _, stderr = invoke("validate", str(target))
    assert code == 1 and stderr.startswith(f"{target}: (top level): Invalid JSON")
    code, _, stderr = invoke("validate", str(tmp_path / "none.json"))
    assert code == 1 and stderr.startswith("error: cannot read ")


def test_module_imports_no_heavy_libraries() -> None:
    import os
    import subprocess
    import sys

    code = (
        "import sys, ade.cli.commands.config;"
        "print(sorted(m for m in ('pydantic', 'fastapi', 'sqlalchemy') if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.stdout.strip() == "[]", result.stderr
