"""nnlab report, in a real browser: Debian's chromium, headless. Its
`--screenshot` of the page is a page, not a blank. Driven over its DevTools
protocol (scripts/nnlab_browser.py: one browser for every page, as starting
one takes seconds), the page loads from file:// with no console error, no
exception and no request but itself and its inline images; a deliberate
error is seen (the detection works); the table's rows are
`nnlab summary --csv`'s; mouse clicks on a header sort the rows as sorting
the CSV by that column does, both ways, and #sort=COLUMN:desc in the
address does the same at load.

  NNLAB=build/nnlab NNLAB_SOURCE_DIR=. python3 tests/e2e_report.py
"""
import csv
import html.parser
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

NNLAB = os.environ.get("NNLAB", "build/nnlab")
SOURCE = os.environ.get("NNLAB_SOURCE_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(SOURCE, "scripts"))
import nnlab_browser  # noqa: E402

CHROMIUM = nnlab_browser.find()

EXPERIMENT = """name: report-test
dataset: {validation_fraction: 0.2, scale: standard}
model: {hidden: [8]}
training: {epochs: 3, batch_size: 8, learning_rate: 0.05}
seeds: [1, 2]
grid:
  model.activation: [tanh, relu]
  training.learning_rate: [0.01, 0.2, 1000.0]
"""

NO_VALIDATION = """name: on-test
model: {hidden: [4]}
training: {epochs: 1, batch_size: 8}
seeds: [1]
grid:
  model.activation: [tanh, relu]
"""

HALVING = """name: report-halving
dataset: {validation_fraction: 0.2, scale: standard}
model: {hidden: [8]}
training: {epochs: 4, batch_size: 16}
search:
  method: halving
  trials: 6
  seed: 2
  min_epochs: 1
  eta: 2
  space:
    training.learning_rate: {log_uniform: [0.001, 0.5]}
seeds: [1]
"""

# (column, clicks on its header): one click sorts ascending, a second descending
CLICKS = [("val_loss_mean", 1), ("val_loss_mean", 2), ("model.activation", 2), ("config", 1)]


def nnlab(*args, cwd=None):
    return subprocess.run([NNLAB] + [str(a) for a in args], capture_output=True, text=True, timeout=300, cwd=cwd)


class Page(html.parser.HTMLParser):
    """What a test reads in a dumped DOM: the table's header and rows (each cell's data-v, the CSV text),
    the text of #nnlab-errors, and body's data-ready (set by the page's script when it has run)."""

    def __init__(self, text):
        super().__init__()
        self.header, self.rows, self.errors, self.ready = [], [], "", None
        self._in_errors = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.ready = a.get("data-ready")
        elif tag == "th" and "data-column" in a:
            self.header.append(a["data-column"])
        elif tag == "tr" and self.header:
            self.rows.append([])
        elif tag == "td" and "data-v" in a:
            self.rows[-1].append(a["data-v"])
        elif tag == "pre" and a.get("id") == "nnlab-errors":
            self._in_errors = True

    def handle_endtag(self, tag):
        if tag == "pre":
            self._in_errors = False

    def handle_data(self, data):
        if self._in_errors:
            self.errors += data


def screenshot(url, tmp, path):
    """chromium --headless --screenshot of url, started (it runs beside the DevTools session)."""
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
            "--user-data-dir=" + os.path.join(tmp, "profile-shot"), "--window-size=1200,1600", "--screenshot=" + path,
            url]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def page_of(b):
    """The page's DOM, read (Page) from its outerHTML, and what the browser saw go wrong there."""
    page = Page(b.evaluate("document.documentElement.outerHTML"))
    page.console = b.errors
    page.requests = b.requests
    return page


def png_pixels(path):
    """(width, height, number of distinct colours) of a PNG (Pillow: matplotlib's dependency)."""
    from PIL import Image
    with Image.open(path) as im:
        assert im.format == "PNG", im.format
        return im.width, im.height, len(im.convert("RGB").getcolors(1 << 24))


def csv_key(value):
    """How the page sorts a column's cells when they are all numbers (empty and nan last)."""
    if value == "" or re.fullmatch(r"(?i)nan|-?inf", value):
        return None
    return float(value)


def sorted_csv(header, rows, column, descending):
    """The CSV's rows sorted as the page promises: by that column, numbers as numbers when every cell is
    one, missing values last, equal keys in the previous (rank) order; descending reverses the comparison."""
    col = header.index(column)
    numeric = all(r[col] == "" or re.fullmatch(r"(?i)nan|-?inf", r[col]) or _is_number(r[col]) for r in rows)
    keyed = [(csv_key(r[col]) if numeric else r[col], i, r) for i, r in enumerate(rows)]
    present = [k for k in keyed if k[0] is not None]
    missing = [k for k in keyed if k[0] is None]
    sign = -1 if descending else 1
    if numeric:
        present.sort(key=lambda k: (sign * k[0], k[1]))
    else:  # strings: stable sort on the string, reversed comparison for descending
        present.sort(key=lambda k: k[1])
        present.sort(key=lambda k: k[0], reverse=descending)
    return [k[2] for k in present + missing]


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


@unittest.skipIf(CHROMIUM is None, "chromium is not installed (scripts/install-deps.sh installs it): no browser test")
class Browser(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nnlab_report_")
        exp = os.path.join(cls.tmp, "exp.yaml")
        with open(exp, "w") as f:
            f.write(EXPERIMENT)
        cls.out = os.path.join(cls.tmp, "out")
        r = nnlab("run", exp, "-o", cls.out, "--quiet")
        assert r.returncode == 0, r.stderr
        cls.report = nnlab("report", cls.out)
        cls.path = os.path.join(cls.out, "report.html")
        table = list(csv.reader(io.StringIO(nnlab("summary", cls.out, "--csv").stdout)))
        cls.header, cls.rows = table[0], table[1:]
        assert cls.report.returncode == 0, cls.report.stderr
        with open(cls.path, encoding="utf-8") as f:
            cls.html = f.read()
        # a copy with deliberate errors: a console.error, then a call of nothing
        broken = os.path.join(cls.tmp, "broken.html")
        with open(broken, "w", encoding="utf-8") as f:
            f.write(cls.html.replace("</body>", "<script>console.error('deliberate');no_such_function();</script>"
                                     "</body>"))
        cls.shot = os.path.join(cls.tmp, "report.png")
        shot = screenshot("file://" + cls.path, cls.tmp, cls.shot)
        url = "file://" + cls.path
        # a successive-halving search: its page has the staircase, and pruned points in the table
        exp = os.path.join(cls.tmp, "halving.yaml")
        with open(exp, "w") as f:
            f.write(HALVING)
        cls.halving_out = os.path.join(cls.tmp, "halving")
        r = nnlab("run", exp, "-o", cls.halving_out, "--quiet")
        assert r.returncode == 0, r.stderr
        r = nnlab("report", cls.halving_out)
        assert r.returncode == 0, r.stderr
        table = list(csv.reader(io.StringIO(nnlab("summary", cls.halving_out, "--csv").stdout)))
        cls.halving_header, cls.halving_rows = table[0], table[1:]
        with open(os.path.join(cls.halving_out, "report.html"), encoding="utf-8") as f:
            cls.halving_html = f.read()
        cls.clicked = {}
        try:
            with nnlab_browser.Chromium() as b:
                b.open(url)
                cls.plain = page_of(b)
                for column, clicks in CLICKS:
                    b.open(url)
                    for _ in range(clicks):
                        b.click('th[data-column="%s"]' % column)
                    cls.clicked[column, clicks] = page_of(b)
                b.open(url + "#sort=val_loss_mean:desc")
                cls.fragment = page_of(b)
                b.open("file://" + broken)
                cls.broken = page_of(b)
                b.open("file://" + os.path.join(cls.halving_out, "report.html"))
                cls.halving = page_of(b)
        finally:
            cls.shot_status = shot.wait(timeout=120), shot.communicate()[1]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_report_written(self):
        self.assertEqual(self.report.returncode, 0, self.report.stderr)
        self.assertEqual(self.report.stdout.strip(), "wrote %s" % self.path)
        self.assertEqual([f for f in os.listdir(self.out) if f.endswith(".tmp")], [])

    def test_screenshot_is_a_page(self):
        rc, err = self.shot_status
        self.assertEqual(rc, 0, err[-2000:])
        width, height, colours = png_pixels(self.shot)
        self.assertEqual((width, height), (1200, 1600))
        self.assertGreater(colours, 20, "the screenshot is (nearly) one colour: a blank page")

    def test_no_console_errors(self):
        self.assertEqual(self.plain.ready, "1", "the page's script did not run to its end")
        self.assertEqual(self.plain.console, [])
        self.assertEqual(self.plain.errors.strip(), "")

    def test_detects_a_deliberate_error(self):
        self.assertTrue(any("deliberate" in e for e in self.broken.console), self.broken.console)
        self.assertTrue(any("no_such_function" in e for e in self.broken.console), self.broken.console)
        self.assertIn("console.error: deliberate", self.broken.errors)  # the page's own record too
        self.assertIn("no_such_function", self.broken.errors)

    def test_nothing_fetched(self):
        self.assertEqual(self.plain.requests[0], "file://" + self.path)
        for url in self.plain.requests[1:]:
            self.assertTrue(url.startswith("data:"), "the page fetched %s" % url[:100])

    def test_table_is_the_summary_csv(self):
        self.assertEqual(self.plain.header, self.header)
        self.assertEqual(self.plain.rows, self.rows)
        self.assertEqual(len(self.rows), 6)

    def test_header_clicks_sort(self):
        for (column, clicks), page in self.clicked.items():
            with self.subTest(column=column, clicks=clicks):
                self.assertEqual(page.console, [])
                want = sorted_csv(self.header, self.rows, column, clicks == 2)
                self.assertEqual(page.rows, want)
                self.assertNotEqual(page.rows, self.rows, "the sort changed nothing: a test that cannot fail")

    def test_sort_in_the_address(self):
        self.assertEqual(self.fragment.console, [])
        self.assertEqual(self.fragment.rows, sorted_csv(self.header, self.rows, "val_loss_mean", True))

    def test_self_contained(self):
        text = re.sub(r'xmlns(:\w+)?="http://www\.w3\.org/[^"]*"', "", self.html)  # SVG's namespaces: names
        self.assertIsNone(re.search(r"(?i)https?://|//[a-z0-9.-]+\.[a-z]{2,}/", text), "an address in the page")
        for attr in re.findall(r'\b(?:src|href)\s*=\s*"([^"]*)"', text):
            self.assertTrue(attr.startswith(("#", "data:")), "a link out of the page: %s" % attr[:100])
        self.assertNotIn("@import", text)
        self.assertEqual(re.findall(r"url\((?!#)", text), [])
        self.assertIn("<svg", text)

    def test_contents(self):
        t = self.html
        self.assertIn("report-test", t)
        self.assertIn("ranked on the validation set", t)
        self.assertIn("learning_rate: swept, see grid", t)  # the resolved experiment
        self.assertIn("model.activation: [tanh, relu]", t)
        for section in ('id="curves"', 'id="heatmaps"', 'id="budget"', 'id="runs"'):
            self.assertIn(section, t)
        self.assertIn("2 diverged runs left out of the bands", t)
        self.assertIn("<dt>diverged</dt><dd>2</dd>", t)
        self.assertEqual(t.count("<figcaption>"), 1)  # one pair of swept settings: one heatmap


    def test_a_halving_search_page(self):
        # the staircase and the pruned points, with no console error, the table the summary's
        self.assertEqual(self.halving.ready, "1", "the page's script did not run to its end")
        self.assertEqual(self.halving.console, [])
        self.assertEqual(self.halving.errors.strip(), "")
        self.assertEqual(self.halving.header, self.halving_header)
        self.assertEqual(self.halving.rows, self.halving_rows)
        self.assertEqual(len(self.halving_rows), 6)
        t = self.halving_html
        self.assertIn('id="search"', t)
        section = t[t.index('id="search"'):]
        self.assertIn("<svg", section[:section.index("</figure>")])
        self.assertIn("<dt>pruned</dt>", t)


class Input(unittest.TestCase):
    """No browser: the messages and exit statuses of bad input, and the ranked-on-test warning."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nnlab_report_input_")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_missing_file(self):
        missing = os.path.join(self.tmp, "nothing.h5")
        r = nnlab("report", missing, "-o", os.path.join(self.tmp, "r.html"))
        self.assertEqual(r.returncode, 2)
        self.assertRegex(r.stderr, r"^nnlab: %s: " % re.escape(missing))
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "r.html")))

    def test_not_a_results_file(self):
        bad = os.path.join(self.tmp, "results.h5")
        with open(bad, "w") as f:
            f.write("not HDF5\n")
        r = nnlab("report", bad)
        self.assertEqual(r.returncode, 2)
        self.assertIn("%s: not an HDF5 file" % bad, r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "report.html")))

    def test_tied_rows_marked(self):
        """The tied column that nnlab summary --csv gives (1 tied with the best, 0 not, empty: not tested)."""
        import nnlab_report
        page = nnlab_report.table_html(["rank", "config", "val_acc_mean", "tied", "p_value"],
                                       [["1", "7", "0.9", "", ""], ["2", "3", "0.8", "1", "0.2"],
                                        ["3", "5", "0.7", "0", "0.01"]])
        rows = re.findall(r"<tr[^>]*>", page)[1:]
        self.assertEqual(rows, ["<tr>", '<tr class="tied">', "<tr>"])
        self.assertIn('<td class="text" data-v=""></td>', page)  # an empty cell stays empty

    def test_usage(self):
        r = nnlab("report")
        self.assertEqual(r.returncode, 2)
        self.assertIn("nnlab report", r.stderr)

    def test_missing_script_or_python(self):
        for env, want in (({"NNLAB_SCRIPTS": self.tmp}, "nnlab_report.py: not found"),
                          ({"NNLAB_PYTHON": os.path.join(self.tmp, "no-python")}, "no-python: report runs")):
            r = subprocess.run([NNLAB, "report", self.tmp], capture_output=True, text=True,
                               env=dict(os.environ, **env))
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(want, r.stderr)

    def test_ranked_on_test_and_write_failure(self):
        exp = os.path.join(self.tmp, "on-test.yaml")
        with open(exp, "w") as f:
            f.write(NO_VALIDATION)
        out = os.path.join(self.tmp, "on-test")
        self.assertEqual(nnlab("run", exp, "-o", out, "--quiet").returncode, 0)
        page = os.path.join(self.tmp, "on-test.html")
        r = nnlab("report", out, "-o", page)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(page, encoding="utf-8") as f:
            self.assertIn('<p class="warn">ranked on the test set: no validation split', f.read())
        r = nnlab("report", out, "-o", os.path.join(self.tmp, "no-such-folder", "r.html"))
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"^error: .*no-such-folder/r\.html: cannot write")


if __name__ == "__main__":
    unittest.main()
