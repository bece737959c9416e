"""The leaderboard page in headless Chromium (Debian's ``chromium``): a
screenshot, and model outputs / system names holding HTML or script that
show as text and run nothing, while the page's own sorter does run."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from judgekit.report import leaderboard

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "smilechat-100.jsonl"

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed "
                                    "(Debian: apt-get install -y chromium; .ci/run installs it)")

SCRIPT = "<script>document.title='PWNED';document.body.insertAdjacentHTML('beforeend','<div id=\"pwned\"></div>')</script>"
IMG = "<img src=x onerror=\"document.title='PWNED-IMG'\">"
EVIL_NAME = "<b id=\"evilname\" onmouseover=\"document.title='PWNED-NAME'\">sys</b>"


def _chromium(*args: str, tmp: Path) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
           "--hide-scrollbars", f"--user-data-dir={tmp / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    rows = [json.loads(x) for x in EXAMPLE.read_text(encoding="utf-8").splitlines()][:40]
    refs = {r["id"]: r["ref"] for r in rows}
    a = {r["id"]: r["pred"] for r in rows}
    b = {r["id"]: r["pred"][: len(r["pred"]) // 2] for r in rows}
    c = {r["id"]: r["ref"][: len(r["ref"]) // 2] + r["pred"] for r in rows}
    first, second = rows[0]["id"], rows[1]["id"]
    b[first] = SCRIPT + b[first]
    c[first] = IMG + c[first]
    c[second] = "</td></tr></table>" + SCRIPT
    lb = leaderboard({"A": a, EVIL_NAME: b, "C": c}, refs, baseline="A", n_bootstrap=200, n_randomization=200)
    out = tmp_path_factory.mktemp("html")
    path = out / "leaderboard.html"
    path.write_text(lb.to_html(), encoding="utf-8")
    return path


def test_source_escapes_every_output(page):
    html = page.read_text(encoding="utf-8")
    assert "<script>document.title" not in html and "<img src=x" not in html and '<b id="evilname"' not in html
    assert "&lt;script&gt;document.title=&#x27;PWNED&#x27;" in html
    assert html.count("<script>") == 1  # only the sorter
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # self-contained


@needs_chromium
def test_chromium_shows_scripts_as_text_and_runs_none(page, tmp_path):
    proc = _chromium("--virtual-time-budget=3000", "--dump-dom", page.as_uri(), tmp=tmp_path)
    dom = proc.stdout
    assert "</html>" in dom, proc.stderr[-2000:]
    assert re.search(r"<title>judgekit leaderboard</title>", dom)  # no payload changed the title
    assert '<div id="pwned"' not in dom and '<b id="evilname"' not in dom and "<img src=\"x\"" not in dom
    # the payloads are on the page as text
    assert "&lt;script&gt;document.title='PWNED'" in dom
    assert "&lt;img src=x onerror=" in dom
    assert "&lt;b id=\"evilname\"" in dom
    # and the page's own script did run (allowed by its hash in the CSP)
    assert dom.count('data-sortable="ready"') >= 2


@needs_chromium
def test_chromium_screenshot(page, tmp_path):
    shot = tmp_path / "leaderboard.png"
    proc = _chromium(f"--screenshot={shot}", "--window-size=1400,1600", page.as_uri(), tmp=tmp_path)
    assert shot.exists(), proc.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    mpimg = pytest.importorskip("matplotlib.image")
    img = mpimg.imread(str(shot))
    assert img.shape[0] == 1600 and img.shape[1] == 1400
    assert img[..., :3].std() > 0.05  # a rendered page, not a blank one


@needs_chromium
def test_the_check_detects_a_payload_that_runs(tmp_path):
    """Control: the same payload left unescaped on a page without the CSP
    does run in this Chromium, so the assertions above can fail."""
    control = tmp_path / "control.html"
    control.write_text(f"<!DOCTYPE html><html><head><title>judgekit leaderboard</title></head><body><table><tr><td>"
                       f"{SCRIPT}</td></tr></table></body></html>", encoding="utf-8")
    dom = _chromium("--virtual-time-budget=3000", "--dump-dom", control.as_uri(), tmp=tmp_path).stdout
    assert "<title>PWNED</title>" in dom and '<div id="pwned"' in dom


@needs_chromium
def test_chromium_sorts_the_table(page, tmp_path):
    """The sorter works: #sort=bleu-4 orders systems by BLEU-4, descending,
    #sort=bleu-4:asc ascending (C has half the reference: highest)."""
    def order(fragment):
        dom = _chromium("--virtual-time-budget=3000", "--dump-dom", page.as_uri() + fragment, tmp=tmp_path).stdout
        first_table = dom.split("</table>")[0]
        return [re.sub(r"<[^>]+>", "", x).replace(" (baseline)", "")
                for x in re.findall(r'<td class="name">(.*?)</td>', first_table)]

    unsorted = order("")
    assert unsorted[0] == "A" and unsorted[2] == "C"
    desc = order("#sort=bleu-4")
    asc = order("#sort=bleu-4:asc")
    assert desc[0] == "C" and asc == desc[::-1] and sorted(desc) == sorted(unsorted)


@pytest.fixture(scope="module")
def judged_page(tmp_path_factory):
    import pandas as pd

    rows = [json.loads(x) for x in EXAMPLE.read_text(encoding="utf-8").splitlines()][:30]
    ids = [r["id"] for r in rows]
    refs = {r["id"]: r["ref"] for r in rows}
    a = {r["id"]: r["pred"] for r in rows}
    b = {r["id"]: r["pred"][: len(r["pred"]) // 2] for r in rows}
    contexts = {r["id"]: r.get("context", "") or f"context {r['id']}" for r in rows}
    judges = {s: pd.DataFrame({"id": ids, "status": "scored", "empathy": [1 + (j * k) % 3 for j in range(30)],
                               "raw": [f"{s} says {SCRIPT if j == 0 else 'fine'}" for j in range(30)]})
              for s, k in (("A", 1), ("B", 2))}
    lb = leaderboard({"A": a, "B": b}, refs, judges=judges, contexts=contexts, n_examples=3, n_bootstrap=100,
                     n_randomization=100)
    path = tmp_path_factory.mktemp("judged") / "leaderboard.html"
    path.write_text(lb.to_html(plots=False), encoding="utf-8")
    return lb, path


@needs_chromium
def test_chromium_examples_view_and_judge_line(judged_page, tmp_path):
    """The examples view (context, reference, each system's output with its
    per-item scores and judge's words) and the judge line render in
    Chromium; the judge's words are text, and a screenshot of the view
    is a rendered page."""
    lb, page = judged_page
    dom = _chromium("--virtual-time-budget=3000", "--dump-dom", page.as_uri(), tmp=tmp_path).stdout
    assert "</html>" in dom and "<title>judgekit leaderboard</title>" in dom and '<div id="pwned"' not in dom
    assert 'class="judge">judge of A, B: model and rubric not recorded in the results given' in dom
    view = dom.split('<h2 id="examples">')[1]
    assert view.startswith("Examples: the 3 items where the systems differ most in judge:empathy</h2>")
    tables = view.split('<table class="examples">')[1:]
    assert len(tables) == 3
    for (_, row), t in zip(lb.examples.iterrows(), tables):
        assert f"item {row['id']} (spread {row['spread']:.3g})" in t
        assert t.count('<td class="name">') == 4  # context, reference, A, B
        assert t.count('class="scores">judge:empathy ') == 2 and t.count('class="said">judge: ') == 2
    shot = tmp_path / "examples.png"
    _chromium(f"--screenshot={shot}", "--window-size=1200,2400", page.as_uri(), tmp=tmp_path)
    mpimg = pytest.importorskip("matplotlib.image")
    img = mpimg.imread(str(shot))
    assert img.shape[:2] == (2400, 1200) and img[..., :3].std() > 0.05
    # the judge line's pale blue box (#eef4fb) is drawn: the CSS applied
    import numpy as np

    rgb = (img[..., :3] * 255).round().astype(int)
    assert (np.abs(rgb - np.array([0xEE, 0xF4, 0xFB])).sum(axis=-1) == 0).sum() > 1000
