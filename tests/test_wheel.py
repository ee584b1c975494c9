"""A non-editable install works offline from any directory: the wheel carries the corpus, its translations and the
prebuilt index (pyproject.toml maps the top-level corpus/ and index/ into assistant/shipped/).

The wheel is built from a copy of the sources (a build writes build/ and *.egg-info next to them, and the working
tree is shared), installed with --no-index into a fresh venv that reuses this venv's packages, and asked questions
from an empty directory.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "assistant", "ui", "corpus", "index")
MAX_WHEEL_BYTES = 5 * 2**20  # the wheel is about 1.5 MB; more means something unintended was packaged
QUESTION = "Did the FDA approve any exosome product?"


def _shipped_files() -> dict[str, Path]:
    """Wheel path -> checkout file for everything the wheel must carry byte for byte."""
    files = {f"assistant/shipped/corpus/{p.name}": p for p in (ROOT / "corpus").glob("*.txt")}
    files |= {f"assistant/shipped/corpus/translations/{p.name}": p
              for p in (ROOT / "corpus" / "translations").glob("*.jsonl")}
    files |= {f"assistant/shipped/index/e5-small/{p.name}": p for p in (ROOT / "index" / "e5-small").iterdir()
              if p.is_file()}
    return files


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("wheel")


@pytest.fixture(scope="module")
def wheel(work) -> Path:
    source = work / "src"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():  # no caches, no build locks or other dotfiles
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", ".*"))
        else:
            shutil.copy2(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
                    "-w", str(work / "dist"), str(source)], check=True, timeout=300)
    (built,) = (work / "dist").glob("exoqa-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(work, wheel) -> Path:
    """A fresh venv with the wheel installed; this venv's site-packages come after its own on sys.path, so the
    dependencies need no network (and the checkout's editable install is not picked up: its .pth is not read)."""
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    ours = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (Path(site) / "zz-project-packages.pth").write_text("\n".join(ours) + "\n")
    # --ignore-installed: the project's editable exoqa is visible through that path and must not be touched.
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "-q",
                    str(wheel)], check=True, timeout=300)
    return venv


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "EXOQA_CORPUS_DIR", "EXOQA_INDEX_DIR", "VIRTUAL_ENV")}
    return {**env, "HF_HUB_OFFLINE": "1"}


def test_wheel_carries_the_corpus_translations_and_index_byte_for_byte(wheel):
    shipped = _shipped_files()
    assert any("/translations/" in name for name in shipped) and any(n.endswith(".faiss") for n in shipped)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        missing = sorted(set(shipped) - names)
        assert missing == []
        for name, path in shipped.items():
            assert archive.read(name) == path.read_bytes(), name
        assert "assistant/safety/data/classifier.npz" in names
        assert {"assistant/integrations/__init__.py", "ui/cli.py"} <= names
    size = wheel.stat().st_size
    print(f"wheel {wheel.name}: {size} bytes ({size / 2**10:.0f} KiB)")
    assert size < MAX_WHEEL_BYTES


def test_installed_wheel_answers_offline_from_another_directory(venv, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    installed = next((venv / "lib").glob("python3*/site-packages/assistant"))
    before = sorted(p.relative_to(installed) for p in installed.rglob("*") if "__pycache__" not in p.parts)

    cli = subprocess.run([str(venv / "bin" / "exoqa"), "ask", QUESTION, "--json"], cwd=elsewhere,
                         env=_clean_env(), capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0, cli.stderr
    assert "rebuilding" not in cli.stderr  # the packaged index is used as shipped
    answer = json.loads(cli.stdout)
    assert answer["decision"] == "answer" and answer["quotes"]
    assert any("no FDA-approved exosome products" in q["text"] for q in answer["quotes"])

    probe = ("import json, assistant, assistant.paths as paths\n"
             "from assistant import Assistant\n"
             "a = Assistant.load()\n"
             "refused = a.ask('我该打多少外泌体针?')\n"
             "print(json.dumps({'module': assistant.__file__, 'corpus': str(paths.default_corpus_dir()),\n"
             "  'index': str(paths.default_index_dir(a.retriever.embedder.model_id)),\n"
             "  'sources': len(a.sources()), 'refused': str(refused.decision)}))\n")
    python = subprocess.run([str(venv / "bin" / "python"), "-c", probe], cwd=elsewhere, env=_clean_env(),
                            capture_output=True, text=True, timeout=300)
    assert python.returncode == 0, python.stderr
    found = json.loads(python.stdout)
    for key in ("module", "corpus", "index"):
        assert Path(found[key]).is_relative_to(venv), (key, found[key])  # not the checkout
    assert found["sources"] == len(list((ROOT / "corpus").glob("*.txt")))
    assert found["refused"] == "refuse"  # the safety gate's data came along too

    corpus = Path(found["corpus"])
    for quote in answer["quotes"]:  # verbatim against the installed copy
        body = (corpus / f"{quote['source_id']}.txt").read_bytes().decode("utf-8").partition("\n\n")[2]
        assert body[quote["start"]:quote["end"]] == quote["text"]
    after = sorted(p.relative_to(installed) for p in installed.rglob("*") if "__pycache__" not in p.parts)
    assert after == before  # reading the shipped index wrote nothing (no lock, no rebuild) into site-packages
