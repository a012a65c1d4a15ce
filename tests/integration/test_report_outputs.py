"""The portfolio report on constructed data with known totals, and its HTML and XLSX forms.

The HTML report is opened in a real headless Chromium (Debian's `chromium` package; installed
with apt-get when missing, the test is skipped with the reason where that cannot be done):
every section present, every chart drawn with a non-empty box, no console error, no network
request, and a PNG screenshot saved in the test's tmp folder.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from riskcli.services.reports import metrics as m
from riskcli.services.reports.customer import SECTION_KEYS as CUSTOMER_SECTIONS
from riskcli.services.reports.customer import build_customer
from riskcli.services.reports.data import ScoreSnapshot, TierSnapshot
from riskcli.services.reports.html import render_html
from riskcli.services.reports.portfolio import SECTION_KEYS, PortfolioData, assemble_portfolio
from riskcli.services.reports.xlsx import write_xlsx
from riskcli.storage.store import Store

AS_OF = dt.date(2026, 6, 30)
COMPARE = dt.date(2026, 3, 31)
N = 200
GRADES = ["A", "B", "C", "D", "E"]
PD_OF = {"A": 0.005, "B": 0.01, "C": 0.03, "D": 0.08, "E": 0.2}


def sample_data(*, with_optional: bool = True) -> PortfolioData:
    rng = np.random.default_rng(42)
    ids = np.arange(1, N + 1)
    customers = pd.DataFrame(
        {
            "id": ids,
            "external_id": [f"C{i:04d}" for i in ids],
            "name": [f"客户 {i}" if i % 7 else f'=HYPERLINK("x","{i}")' for i in ids],
            "kind": "company",
            "industry": rng.choice(["steel", "retail", "chemicals", "logistics", None], N),
            "region": rng.choice(["华东", "华南", "华北", "西部"], N),
            "credit_limit": rng.integers(1, 50, N) * 1_000_000,
            "status": np.where(ids % 20 == 0, "suspended", "active"),
        }
    )
    rows = []
    for i in range(600):
        cust = int(rng.integers(1, N + 1))
        issue = AS_OF - dt.timedelta(days=int(rng.integers(0, 200)))
        due = issue + dt.timedelta(days=30)
        amount = int(rng.integers(1_000, 500_000)) * 100
        paid = amount if i % 3 == 0 else (amount // 2 if i % 5 == 0 else 0)
        rows.append(
            (
                f"INV{i}",
                cust,
                issue.isoformat(),
                due.isoformat(),
                amount,
                paid,
                (issue + dt.timedelta(days=10)).isoformat() if paid else None,
            )
        )
    frame = pd.DataFrame(
        rows,
        columns=[
            "invoice_number",
            "customer_id",
            "issue_date",
            "due_date",
            "amount",
            "paid_amount",
            "paid_date",
        ],
    )
    # in the shape of the book's open invoices (book.open_invoices): what the loader hands over;
    # the payments here are all counted as received by the date
    frame["outstanding"] = frame["amount"] - frame["paid_amount"]
    due = pd.to_datetime(frame["due_date"])
    frame["days_past_due"] = (pd.Timestamp(AS_OF) - due).dt.days.clip(lower=0)
    receivables = frame[frame["outstanding"] > 0].reset_index(drop=True)
    data = PortfolioData(as_of=AS_OF, customers=customers, receivables=receivables)
    if not with_optional:
        return data
    scored = ids[ids % 10 != 0]  # 20 customers never scored
    then_scores = rng.normal(600, 40, len(scored)).round()
    now_scores = then_scores - rng.normal(8, 15, len(scored)).round()

    def grade(score: float) -> str:
        return GRADES[int(np.clip((660 - score) // 25, 0, 4))]

    def snap(scores: np.ndarray, run: int, day: dt.date, who: np.ndarray) -> ScoreSnapshot:
        grades = [grade(s) for s in scores]
        frame = pd.DataFrame(
            {"customer_id": who, "score": scores, "pd": [PD_OF[g] for g in grades], "grade": grades}
        )
        return ScoreSnapshot(f"score run {run} ({day})", day, frame, run_id=run)

    data.scores = snap(now_scores, 2, AS_OF, scored)
    data.compare = snap(then_scores[:-15], 1, COMPARE, scored[:-15])
    tiered = ids[ids % 9 != 0]
    data.tiers = TierSnapshot(
        "tier run 1 (2026-06-30)",
        AS_OF,
        pd.DataFrame(
            {
                "customer_id": tiered,
                "tier": rng.choice(list("ABCD"), len(tiered), p=[0.1, 0.2, 0.3, 0.4]),
                "segment": "Loyal",
                "lifecycle": "active",
            }
        ),
    )
    data.alerts = pd.DataFrame(
        {
            "customer_id": rng.integers(1, N + 1, 40),
            "rule": rng.choice(["payment.overdue", "exposure.breach", "score.downgrade"], 40),
            "severity": rng.choice(["critical", "high", "medium", "low"], 40),
        }
    )
    return data


# ---- sections with known totals --------------------------------------------------------------
def test_every_section_present_and_totals_add_up() -> None:
    data = sample_data()
    report = assemble_portfolio(data, top=10)
    assert report.keys == list(SECTION_KEYS)
    assert all(s.available for s in report.sections), [
        s.key for s in report.sections if not s.available
    ]

    items = m.aged(data.receivables)
    total = Decimal(int(items["outstanding"].sum())) / 100
    aging = report.section("aging").table
    assert sum(aging["amount"]) == total
    assert aging["invoices"].sum() == len(items)

    for key in (
        "exposure_by_grade",
        "exposure_by_tier",
        "concentration_industry",
        "concentration_region",
    ):
        table = report.section(key).table
        assert table["customers"].sum() == N, key
        assert sum(table["exposure"]) == total, key

    matrix = report.section("grade_tier_matrix").table
    assert int(matrix.iloc[:, 1:].to_numpy().sum()) == N
    unscored = matrix.set_index("grade").loc[m.UNSCORED].sum()
    assert unscored == 20

    migration = report.section("grade_migration").table
    assert int(migration.iloc[:, 1:].to_numpy().sum()) == N - 20  # everyone ever scored
    assert migration.set_index("from_grade").loc[m.UNSCORED].sum() == 15  # new since compare

    hist = report.section("score_distribution").table
    assert hist["customers"].sum() == N - 20
    assert hist["compare_customers"].sum() == N - 20 - 15
    psi = report.section("score_stability").facts["psi"]
    assert psi > 0

    top = report.section("top_expected_loss").table
    assert len(top) == 10
    assert list(top["expected_loss"]) == sorted(top["expected_loss"], reverse=True)

    assert report.section("alerts_by_severity").table["open_alerts"].sum() == 40
    assert report.section("alerts_by_rule").table["total"].sum() == 40


def test_sections_without_data_say_so() -> None:
    report = assemble_portfolio(sample_data(with_optional=False))
    missing = {s.key: s.note for s in report.sections if not s.available}
    assert set(missing) == set(SECTION_KEYS) - {
        "summary",
        "aging",
        "concentration_industry",
        "concentration_region",
    }
    assert "tier run" in missing["exposure_by_tier"]
    assert "score run" in missing["exposure_by_grade"]
    assert "monitor" in missing["alerts_by_rule"]
    html = render_html(report)
    assert html.count('class="report-section missing"') == len(missing)


def test_json_form_is_plain_and_exact() -> None:
    report = assemble_portfolio(sample_data(), top=5)
    payload = json.loads(json.dumps(report.to_dict(), ensure_ascii=False))
    aging = next(s for s in payload["sections"] if s["key"] == "aging")
    assert [r["bucket"] for r in aging["rows"]] == list(m.AGING_BUCKETS)
    assert all(isinstance(r["amount"], int | float) for r in aging["rows"])
    total = sum(Decimal(str(r["amount"])) for r in aging["rows"])
    assert total == sum(report.section("aging").table["amount"])
    assert payload["params"]["as_of"] == "2026-06-30"


# ---- XLSX ------------------------------------------------------------------------------------
def test_xlsx_types_preserved_and_injection_neutralised(tmp_path: Path) -> None:
    report = assemble_portfolio(sample_data(), top=20)
    path = write_xlsx(report, tmp_path / "portfolio.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["index", *SECTION_KEYS]

    aging = wb["aging"]
    header = [c.value for c in aging[1]]
    assert header == ["bucket", "invoices", "amount", "amount_share", "invoice_share"]
    amounts = [row[2].value for row in aging.iter_rows(min_row=2)]
    assert all(isinstance(v, int | float) for v in amounts)
    assert round(sum(amounts), 2) == float(sum(report.section("aging").table["amount"]))
    assert aging["C2"].number_format == "#,##0.00"
    assert aging["D2"].number_format == "0.0%"
    assert isinstance(aging["B2"].value, int)

    top = wb["top_expected_loss"]
    names = [row[2].value for row in top.iter_rows(min_row=2)]
    dangerous = [n for n in names if "HYPERLINK" in n]
    assert dangerous and all(n.startswith("'=") for n in dangerous)
    assert not any(
        isinstance(c.value, str) and c.value.startswith("=")
        for row in wb["top_expected_loss"].iter_rows()
        for c in row
    )
    assert all(isinstance(row[4].value, float) for row in top.iter_rows(min_row=2))  # pd
    assert [c.value for c in top[1]][4] == "pd"
    assert all(row[4].number_format == "0.00%" for row in top.iter_rows(min_row=2))

    index = wb["index"]
    params = {r[0].value: r[1].value for r in index.iter_rows() if r[0].value}
    assert params["As of"] == dt.datetime(2026, 6, 30)  # a real date cell
    assert index["B3"].is_date


def test_xlsx_missing_sections_keep_their_sheet_with_the_note(tmp_path: Path) -> None:
    report = assemble_portfolio(sample_data(with_optional=False))
    wb = load_workbook(write_xlsx(report, tmp_path / "p.xlsx"))
    assert wb["grade_migration"]["A1"].value == "note"
    assert "score run" in wb["grade_migration"]["A2"].value


# ---- HTML in headless Chromium ---------------------------------------------------------------
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--hide-scrollbars",
]

# Injected into a copy of the page: collects errors and measures every section and chart.
PROBE = """<script>
window.__errors = [];
window.addEventListener('error', e => window.__errors.push('error: ' + e.message));
for (const level of ['error', 'warn']) {
  const orig = console[level];
  console[level] = (...a) => { window.__errors.push(level + ': ' + a.join(' ')); orig(...a); };
}
document.addEventListener('securitypolicyviolation',
  e => window.__errors.push('csp: ' + e.violatedDirective + ' ' + e.blockedURI));
window.addEventListener('load', () => {
  const sections = [...document.querySelectorAll('section.report-section')].map(s => ({
    key: s.dataset.section, missing: s.classList.contains('missing'),
    height: s.getBoundingClientRect().height}));
  const charts = [...document.querySelectorAll('figure.chart svg')].map(svg => {
    const box = svg.getBoundingClientRect();
    const shapes = [...svg.querySelectorAll('rect')].filter(r => {
      const b = r.getBBox(); return b.width > 0 && b.height > 0; }).length;
    return {kind: svg.dataset.chart, width: box.width, height: box.height, shapes: shapes,
            section: svg.closest('section').dataset.section};
  });
  const resources = performance.getEntriesByType('resource').map(r => r.name);
  const out = document.createElement('pre');
  out.id = 'probe-result';
  out.textContent = JSON.stringify({sections, charts, resources, errors: window.__errors});
  document.body.appendChild(out);
});
</script>"""


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("headless Chromium is not installed and apt-get is not usable here")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            pytest.skip(f"cannot install Chromium ({' '.join(cmd)}): {proc.stderr.strip()[-300:]}")
    found = shutil.which("chromium")
    if not found:
        pytest.skip("apt-get installed no chromium binary")
    return found


def _run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _cjk_font() -> None:
    """Best effort: a CJK font so Chinese names show in the screenshot (not needed to pass)."""
    fc_list = shutil.which("fc-list")
    if fc_list and subprocess.run([fc_list, ":lang=zh"], capture_output=True, text=True).stdout:
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        cmd = ["apt-get", "install", "-y", "-q", "fonts-wqy-zenhei"]
        subprocess.run(cmd, env=env, capture_output=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = _chromium()
    _cjk_font()
    return binary


def _console(chromium: str, page: Path, profile: Path, shot: Path, height: int) -> list[str]:
    """Open *page* untouched, save a screenshot, return Chromium's console lines."""
    proc = _run_chromium(
        chromium,
        profile,
        "--enable-logging=stderr",
        "--v=0",
        f"--window-size=1200,{height}",
        f"--screenshot={shot}",
        page.as_uri(),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [ln for ln in proc.stderr.splitlines() if ":CONSOLE" in ln or "Uncaught" in ln]


def _probe(chromium: str, text: str, tmp_path: Path) -> dict[str, Any]:
    """Open a copy of the page with PROBE injected and return what it measured.

    The probe script needs a CSP that lets it run; nothing else in the page changes.
    """
    probed = tmp_path / "probed.html"
    allowed = text.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';")
    probed.write_text(allowed.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    proc = _run_chromium(
        chromium,
        tmp_path / "profile-probe",
        "--window-size=1200,4000",
        "--virtual-time-budget=5000",
        "--dump-dom",
        probed.as_uri(),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = re.search(r'<pre id="probe-result">(.*?)</pre>', proc.stdout, re.S)
    assert found, proc.stdout[-2000:]
    raw = found.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    result: dict[str, Any] = json.loads(raw)
    return result


def test_the_console_check_catches_a_broken_page(chromium: str, tmp_path: Path) -> None:
    """Negative control: the checks below would see a console error and a blocked fetch."""
    page = tmp_path / "broken.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; script-src 'unsafe-inline'\"></head><body>"
        '<img src="http://127.0.0.1:9/x.png"><script>missingFunction()</script></body></html>',
        encoding="utf-8",
    )
    lines = _console(chromium, page, tmp_path / "profile", tmp_path / "broken.png", 600)
    assert any("missingFunction" in ln for ln in lines), lines
    assert any("Content Security Policy" in ln for ln in lines), lines


def test_html_report_in_headless_chromium(chromium: str, tmp_path: Path) -> None:
    report = assemble_portfolio(sample_data(), top=10)
    page = tmp_path / "portfolio.html"
    page.write_text(render_html(report), encoding="utf-8")
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)

    # 1. The real page, untouched: no console message at all, and a screenshot.
    shot = tmp_path / "portfolio.png"
    assert _console(chromium, page, tmp_path / "profile", shot, 7200) == []
    assert shot.exists() and shot.stat().st_size > 20_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # 2. Measured: every section laid out, every chart drawn, no error, nothing fetched.
    result = _probe(chromium, text, tmp_path)
    assert result["errors"] == []
    assert result["resources"] == []
    assert [s["key"] for s in result["sections"]] == list(SECTION_KEYS)
    assert all(not s["missing"] and s["height"] > 40 for s in result["sections"])
    charts = {c["section"]: c for c in result["charts"]}
    expected = {
        "exposure_by_grade": "bars",
        "exposure_by_tier": "shares",
        "grade_tier_matrix": "heatmap",
        "aging": "bars",
        "concentration_industry": "bars",
        "concentration_region": "bars",
        "alerts_by_severity": "bars",
        "score_distribution": "histogram",
        "grade_migration": "heatmap",
    }
    assert {k: c["kind"] for k, c in charts.items()} == expected
    for key, chart in charts.items():
        assert chart["width"] > 300 and chart["height"] > 100, key
        assert chart["shapes"] >= 2, key


def test_customer_profile_html_in_headless_chromium(
    chromium: str, store: Store, tmp_path: Path
) -> None:
    with store.transaction():
        store.execute(
            "INSERT INTO customers (external_id, name, phone, credit_limit) "
            "VALUES ('C9', '华东钢铁', '13812345678', 500000)"
        )
        cid = store.scalar("SELECT id FROM customers WHERE external_id = 'C9'")
        store.executemany(
            "INSERT INTO receivables (invoice_number, customer_id, issue_date, due_date, amount) "
            "VALUES (?, ?, ?, ?, ?)",
            [
                ("A1", cid, "2026-05-01", "2026-07-15", 120_000),
                ("A2", cid, "2026-03-01", "2026-04-15", 80_000),
            ],
        )
    report = build_customer(store, "C9", as_of=AS_OF)
    page = tmp_path / "customer.html"
    page.write_text(render_html(report), encoding="utf-8")
    assert "13812345678" not in page.read_text(encoding="utf-8")
    assert _console(chromium, page, tmp_path / "profile", tmp_path / "customer.png", 2400) == []
    result = _probe(chromium, page.read_text(encoding="utf-8"), tmp_path)
    assert result["errors"] == [] and result["resources"] == []
    assert [s["key"] for s in result["sections"]] == list(CUSTOMER_SECTIONS)
    assert [c["section"] for c in result["charts"]] == ["aging"]
    assert result["charts"][0]["shapes"] == 2  # current and 61-90 hold money


def test_html_print_stylesheet_and_pdf(chromium: str, tmp_path: Path) -> None:
    report = assemble_portfolio(sample_data(), top=10)
    page = tmp_path / "portfolio.html"
    page.write_text(render_html(report), encoding="utf-8")
    assert "@media print" in page.read_text(encoding="utf-8")
    pdf = tmp_path / "portfolio.pdf"
    proc = _run_chromium(
        chromium,
        tmp_path / "profile",
        f"--print-to-pdf={pdf}",
        "--no-pdf-header-footer",
        page.as_uri(),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert pdf.read_bytes()[:5] == b"%PDF-"
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
    assert 2 <= pages <= 12
