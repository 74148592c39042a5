"""What a non-editable install ships: every Python package under emu/ is listed
in pyproject.toml, or `pip install .` leaves it out."""
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {".".join(init.parent.relative_to(ROOT).parts)
             for init in (ROOT / "emu").rglob("__init__.py")}
    assert found == listed
