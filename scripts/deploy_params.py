"""The `--parameter-overrides` for `make deploy`: samconfig.toml's for the config env, then the caller's.

`sam deploy --parameter-overrides ...` replaces samconfig's overrides instead of adding to them, so a deploy
that only meant to set `JwtSecretParameter` would silently drop `Stage`, `ModelProvider` and the rest. This
merges them: samconfig's first, the caller's `Key=Value` pairs over them.

Run: `python scripts/deploy_params.py [--config-env ENV] [Key=Value ...]`.
"""

from __future__ import annotations

import argparse
import shlex
import tomllib
from pathlib import Path

SAMCONFIG = Path(__file__).resolve().parents[1] / "samconfig.toml"


def parse_overrides(text: str) -> dict[str, str]:
    """`Key=Value Key2="a value"` as a dict, in order.

    Raises:
        ValueError: A part is not `Key=Value`.
    """
    pairs: dict[str, str] = {}
    for part in shlex.split(text):
        key, sep, value = part.partition("=")
        if not sep or not key.isidentifier():
            raise ValueError(f"{part!r} is not Key=Value")
        pairs[key] = value
    return pairs


def merged_overrides(config_env: str, extra: list[str], samconfig: Path = SAMCONFIG) -> str:
    """samconfig's overrides for `config_env` with `extra` (`Key=Value` strings) over them, one string.

    Raises:
        ValueError: samconfig has no `config_env` (sam would stop later, on a missing stack name), or a
            part of `extra` is not `Key=Value`.
    """
    config = tomllib.loads(samconfig.read_text("utf-8"))
    envs = sorted(name for name, table in config.items() if isinstance(table, dict))
    if config_env not in envs:
        raise ValueError(f"no config env {config_env!r} in {samconfig.name}: it has {', '.join(envs)}")
    base = config[config_env].get("deploy", {}).get("parameters", {}).get("parameter_overrides", "")
    pairs = parse_overrides(base)
    pairs.update(parse_overrides(" ".join(shlex.quote(item) for item in extra)))
    return " ".join(f"{key}={shlex.quote(value)}" for key, value in pairs.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config-env", default="default")
    parser.add_argument("overrides", nargs="*", help="Key=Value pairs that win over samconfig's")
    args = parser.parse_args()
    try:
        print(merged_overrides(args.config_env, args.overrides))
    except ValueError as error:
        parser.error(str(error))


if __name__ == "__main__":
    main()
