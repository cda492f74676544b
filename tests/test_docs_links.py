"""Pages included from README link the repository paths they name (docs/conf.py's
``include-read`` hook), so a reader of the site can open `experiments/reproduction/`."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _conf():
    spec = importlib.util.spec_from_file_location("jaxsoftmax_docs_conf", ROOT / "docs/conf.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_repository_paths_in_included_text_become_links_and_nothing_else_does():
    # Bugs: paths inside code blocks or commands rewritten (broken shell lines); a link
    # nested inside an existing link; a path that does not exist linked (a dead link); a
    # folder linked as a file (GitHub's blob/ for a tree/).
    conf = _conf()
    repo = conf.REPOSITORY
    text = "\n".join(
        [
            "Stored run (`experiments/reproduction/`), made with `jaxsoftmax reproduce`.",
            "See `docs/cluster.md` and [`docs/tour.md`](docs/tour.md); `no/such/file.md`.",
            "```bash",
            "python3 `experiments/dunne_campbell.py`",
            "```",
            "A word: `trials`.",
        ]
    )
    got = conf.repository_links(text).split("\n")
    assert got[0] == (
        f"Stored run ([`experiments/reproduction/`]({repo}tree/main/experiments/reproduction)), "
        "made with `jaxsoftmax reproduce`."
    )
    assert got[1] == (
        f"See [`docs/cluster.md`]({repo}blob/main/docs/cluster.md) and "
        "[`docs/tour.md`](docs/tour.md); `no/such/file.md`."
    )
    assert got[2:] == text.split("\n")[2:]


def test_readmes_repository_paths_are_all_linked_on_the_site():
    # Bug: the hook not connected to the include event (paths left as dead text).
    conf = _conf()
    events = {}

    class App:
        def connect(self, event, fn):
            events[event] = fn

    conf.setup(App())
    content = [(ROOT / "README.md").read_text()]
    events["include-read"](App(), Path("../README.md"), "reproduction", content)
    assert f"({conf.REPOSITORY}tree/main/experiments/reproduction)" in content[0]
