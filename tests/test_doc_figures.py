"""The figures that the top README and the demo page quote come from the benchmark files
they link: each number of the README's latency table, and its date, occurs in the linked page
of benchmarks/; the demo page's results occur in benchmarks/demo.md."""
import re

import pytest

from .helpers import REPO

NUMBER = re.compile(r'(?<![\w.])\d+(?:\.\d+)?(?![\w.])')
DATE = re.compile(r'\b20\d\d-\d\d-\d\d\b')
BENCHMARK_LINK = re.compile(r'\]\((benchmarks/[\w./-]+\.md)\)')


def section(text: str, heading: str) -> str:
    """The text of the ``## heading`` section, up to the next ``## ``."""
    start = text.index(f'## {heading}\n')
    end = text.find('\n## ', start + 1)
    return text[start:end if end >= 0 else len(text)]


def first_table(text: str) -> list[list[str]]:
    """The cells of the first Markdown table of ``text``, header and rule left out."""
    rows = []
    for line in text.splitlines():
        if line.startswith('|'):
            rows.append([cell.strip() for cell in line.strip().strip('|').split('|')])
        elif rows:
            break
    return rows[2:]


def occurs(number: str, text: str) -> bool:
    return re.search(r'(?<![\w.])' + re.escape(number) + r'(?![\d])', text) is not None


def readme_latency_table():
    """The README's latency table, the page it links and the text before the table."""
    results = section((REPO / 'README.md').read_text(), 'Results at a glance')
    intro = results[:results.index('\n|')]
    links = BENCHMARK_LINK.findall(intro)
    assert links, 'the latency table names no page of benchmarks/ before it'
    return first_table(results), (REPO / links[0]).read_text(), intro


def test_the_readme_latency_table_has_rows():
    rows, _, _ = readme_latency_table()
    assert len(rows) >= 3 and all(len(row) == len(rows[0]) for row in rows)


@pytest.mark.parametrize('row', range(4))
def test_every_readme_latency_figure_is_in_the_linked_benchmark(row):
    rows, benchmark, _ = readme_latency_table()
    if row >= len(rows):
        pytest.skip('the table is shorter')
    figures = [n for cell in rows[row][1:] for n in NUMBER.findall(cell)]
    assert figures, f'row {rows[row]} has no figures'
    missing = [n for n in figures if not occurs(n, benchmark)]
    assert not missing, f'README latency row {rows[row][0]!r}: {missing} not in the benchmark page'


def test_the_readme_latency_table_has_the_date_of_its_benchmark():
    _, benchmark, intro = readme_latency_table()
    dates = DATE.findall(intro)
    assert dates, 'the latency table gives no date'
    assert all(date in benchmark for date in dates)


def test_the_demo_page_figures_are_in_benchmarks_demo():
    page = section((REPO / 'docs' / 'demo.md').read_text(), 'Time and results')
    record = (REPO / 'benchmarks' / 'demo.md').read_text()
    figures = re.findall(r'\b\d\.\d{3}\b|\b\d\.\d\dx\b|\b\d+ min \d+ s\b', page)
    assert len(figures) >= 5
    missing = [f for f in figures if f not in record]
    assert not missing, f'docs/demo.md quotes {missing}, which benchmarks/demo.md does not hold'
    assert all(date in record for date in DATE.findall(page))


def test_the_checks_see_a_wrong_figure():
    assert occurs('712.7', 'dense | 712.7 | 0.798')
    assert not occurs('712.7', 'dense | 1712.75')
    assert first_table('x\n| a | b |\n|---|---|\n| c | 1.0 |\n\nafter') == [['c', '1.0']]
