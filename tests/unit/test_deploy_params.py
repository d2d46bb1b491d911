"""`make deploy`'s parameter overrides keep samconfig.toml's and add the caller's over them."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from scripts.deploy_params import merged_overrides, parse_overrides

ROOT = Path(__file__).resolve().parents[2]


def test_samconfigs_overrides_are_kept_and_the_callers_win() -> None:
    merged = parse_overrides(merged_overrides("default", ["JwtSecretParameter=/app/jwt", "LogLevel=INFO"]))
    assert merged == {
        "Stage": "dev",
        "ModelProvider": "offline",
        "SessionTtlSeconds": "1800",
        "LogLevel": "INFO",
        "JwtSecretParameter": "/app/jwt",
    }
    prod = parse_overrides(merged_overrides("prod", []))
    assert prod["BedrockModelId"] == "anthropic.claude-3-5-haiku-20241022-v1:0" and prod["Stage"] == "prod"


def test_values_with_spaces_survive_and_bad_pairs_are_refused() -> None:
    assert parse_overrides(merged_overrides("default", ["AlarmEmail=a b"]))["AlarmEmail"] == "a b"
    with pytest.raises(ValueError, match="not Key=Value"):
        merged_overrides("default", ["JwtSecretParameter"])


def test_make_deploy_passes_the_merged_overrides_to_sam() -> None:
    dry_run = subprocess.run(
        ["make", "-n", "deploy", "CONFIG_ENV=prod", "PARAMS=AlarmEmail=ops@example.com"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.replace("\\\n", "")
    line = next(line for line in dry_run.splitlines() if "sam deploy" in line)
    assert "--config-env prod" in line
    assert "scripts/deploy_params.py --config-env prod AlarmEmail=ops@example.com" in line


@pytest.mark.parametrize(
    ("model", "installed"),
    [
        ("", []),
        ("offline", []),
        ("openai:gpt-4o-mini", ["openai"]),
        ("anthropic:claude-3-5-haiku", ["anthropic"]),
    ],
)
def test_the_layer_carries_only_the_configured_models_integration(model: str, installed: list[str]) -> None:
    plan = subprocess.run(
        [
            "make",
            "-n",
            "-C",
            "layers/runtime",
            "build-RuntimeLayer",
            "ARTIFACTS_DIR=/tmp/layer",
            f"MODEL={model}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert (
        sorted(name for name in ("openai", "anthropic", "ollama") if f"providers/{name}.txt" in plan)
        == installed
    )


def test_an_unknown_config_env_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"no config env 'dev' in samconfig.toml: it has default, prod"):
        merged_overrides("dev", ["JwtSecretParameter=/app/jwt"])
    cli = subprocess.run(
        [sys.executable, "scripts/deploy_params.py", "--config-env", "dev", "JwtSecretParameter=/app/jwt"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 2 and cli.stdout == ""
    assert "no config env 'dev'" in cli.stderr


def test_make_deploy_checks_the_config_env_before_building() -> None:
    refused = subprocess.run(
        ["make", "deploy-params", "CONFIG_ENV=dev"], cwd=ROOT, capture_output=True, text=True
    )
    assert refused.returncode != 0 and "no config env 'dev'" in refused.stderr
    plan = subprocess.run(
        ["make", "-n", "deploy", "CONFIG_ENV=dev"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    checked = re.compile(r"deploy_params.py --config-env dev\s+>")
    check = next(i for i, line in enumerate(plan) if checked.search(line))
    build = next(i for i, line in enumerate(plan) if "sam build" in line)
    assert check < build


def test_every_config_env_the_guide_names_is_in_samconfig() -> None:
    envs = set(tomllib.loads((ROOT / "samconfig.toml").read_text("utf-8"))) - {"version"}
    guide = (ROOT / "docs" / "deploy.md").read_text("utf-8")
    named = set(re.findall(r"`(\w+)` config\b", guide))
    named |= set(re.findall(r"(?:CONFIG_ENV=|--config-env )(\w+)", guide))
    assert named and named <= envs, named - envs


def test_after_a_build_make_says_to_deploy_with_make_deploy_not_sams_guided_deploy() -> None:
    # Under `make test` the parent make's MAKEFLAGS would make this one print "Entering/Leaving directory".
    plan = subprocess.run(
        ["make", "-n", "--no-print-directory", "build"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    last = plan.stdout.strip().splitlines()[-1]
    assert last.startswith('echo "Next: make deploy PARAMS=')
    assert "not the --guided deploy that sam build suggests" in last
    said = subprocess.run(["sh", "-c", last], capture_output=True, text=True, check=True).stdout
    assert said.startswith('Next: make deploy PARAMS="JwtSecretParameter=..." [CONFIG_ENV=prod], not')
    guide = (ROOT / "docs" / "deploy.md").read_text("utf-8")
    advice = "`sam build` ends by suggesting `sam deploy --guided`: do not follow it, run `make deploy`"
    assert advice in guide
