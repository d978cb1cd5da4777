"""The manual says what exists: every nnlab command and option shown in
README.md and docs/*.md is one `nnlab --help` lists, every option shown for
a script is one its --help lists, every experiment file the docs name
exists and passes `nnlab check`, and every experiment written out in a
```yaml block passes `nnlab check` (with the example data made by
scripts/make-example-data.py), and README.md is 200 lines at most."""
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import unittest

NNLAB = os.environ["NNLAB"]
SOURCE = os.environ["NNLAB_SOURCE_DIR"]
DOCS = [os.path.join(SOURCE, "README.md")] + sorted(glob.glob(os.path.join(SOURCE, "docs", "*.md")))
EXPERIMENT_KEYS = ("name:", "base:", "dataset:", "model:", "training:", "seeds:", "grid:")


def blocks(path):
    """(language, text) of every fenced code block of a Markdown file."""
    text = open(path).read()
    return re.findall(r"^```([a-z]*)\n(.*?)^```", text, flags=re.S | re.M)


def code_spans(path):
    """Every `inline code` span and every line of a fenced block."""
    text = open(path).read()
    lines = []
    for _, body in blocks(path):
        lines += body.splitlines()
    lines += re.findall(r"`([^`\n]+)`", re.sub(r"^```.*?^```", "", text, flags=re.S | re.M))
    return lines


def commands(path, program):
    """The argument lists of every use of program (a word) in the file's code."""
    found = []
    for line in code_spans(path):
        line = line.split("  #")[0]
        for m in re.finditer(r"(?:^|[\s/(])%s((?:\s+[^\s|;&#]+)*)" % re.escape(program), line):
            try:
                found.append(shlex.split(m.group(1)))
            except ValueError:
                found.append(m.group(1).split())
    return found


def options(args):
    return [a.split("=")[0] for a in args if re.match(r"^--?[a-z]", a) and a not in ("-", "--")]


class Docs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.help = subprocess.run([NNLAB, "--help"], capture_output=True, text=True).stdout
        cls.tmp = tempfile.mkdtemp(prefix="nnlab_docs_")
        # a copy of the tree's experiments and configs beside the example data the docs use
        for folder in ("experiments", "configs"):
            shutil.copytree(os.path.join(SOURCE, folder), os.path.join(cls.tmp, folder))
        make = os.path.join(SOURCE, "scripts", "make-example-data.py")
        cls.data_made = False
        if os.path.exists(make):
            r = subprocess.run([sys.executable, make, "-o", os.path.join(cls.tmp, "data", "examples")],
                               capture_output=True, text=True)
            cls.data_made = r.returncode == 0
            assert cls.data_made, r.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def check(self, path, what):
        r = subprocess.run([NNLAB, "check", path], capture_output=True, text=True, cwd=self.tmp)
        self.assertEqual(r.returncode, 0, "%s: %s" % (what, r.stderr))

    def test_readme_is_short(self):
        with open(os.path.join(SOURCE, "README.md")) as f:
            self.assertLessEqual(len(f.readlines()), 200)

    def test_every_nnlab_command_and_option_shown_exists(self):
        known = set(re.findall(r"^  nnlab ([a-z]+)", self.help, flags=re.M))
        self.assertTrue({"run", "check", "list", "summary", "predict", "merge"} <= known, self.help)
        seen = 0
        for doc in DOCS:
            for args in commands(doc, "nnlab"):
                if not args or args[0].startswith("-") and args[0] not in ("--version", "--help"):
                    continue
                if not args[0].startswith("-") and not re.match(r"^[a-z]+$", args[0]):
                    continue
                if args[0].isalpha() and args[0] not in known:
                    if args[0] in ("is", "trains", "runs", "says", "writes", "reads", "picks", "keeps", "can"):
                        continue  # prose about nnlab, not a command
                    self.fail("%s: 'nnlab %s' is not a command (%s)" % (os.path.basename(doc), args[0], known))
                for opt in options(args[1:] if args[0].isalpha() else args):
                    seen += 1
                    self.assertIn(opt, self.help, "%s: nnlab %s: option %s is not in nnlab --help"
                                  % (os.path.basename(doc), " ".join(args), opt))
        self.assertGreater(seen, 20)

    def test_every_script_option_shown_exists(self):
        seen = 0
        for script in glob.glob(os.path.join(SOURCE, "scripts", "*.py")):
            name = os.path.basename(script)
            r = subprocess.run([sys.executable, script, "--help"], capture_output=True, text=True)
            if r.returncode != 0:
                continue  # not a command-line script (the loader)
            for doc in DOCS:
                for args in commands(doc, name):
                    for opt in options(args):
                        seen += 1
                        self.assertIn(opt, r.stdout, "%s: %s %s: %s is not in its --help"
                                      % (os.path.basename(doc), name, " ".join(args), opt))
        self.assertGreater(seen, 5)

    def test_every_experiment_file_named_passes_check(self):
        named = set()
        for doc in DOCS:
            for line in code_spans(doc):
                named.update(re.findall(r"(experiments/[\w./-]+\.yaml)", line))
        self.assertGreater(len(named), 5)
        for path in sorted(named):
            if "my-grid" in path:  # written out in README.md, checked by the yaml test
                continue
            self.assertTrue(os.path.exists(os.path.join(SOURCE, path)), path)
            if "fashion" in path and not os.path.isdir("/usr/share/datasets/fashion-mnist"):
                continue  # a benchmark-only data set (scripts/install-deps.sh --bench)
            self.check(path, path)

    def test_every_experiment_written_out_passes_check(self):
        n = 0
        for doc in DOCS:
            for lang, body in blocks(doc):
                if lang != "yaml" or not any(line.startswith(EXPERIMENT_KEYS) for line in body.splitlines()):
                    continue
                n += 1
                where = ("experiments", "examples") if "../../" in body else ("experiments",)  # as shipped
                path = os.path.join(self.tmp, *where, "shown%d.yaml" % n)
                with open(path, "w") as f:
                    f.write(body)
                self.check(path, "%s, the experiment beginning %r" % (os.path.basename(doc), body[:60]))
        self.assertGreaterEqual(n, 2)


if __name__ == "__main__":
    unittest.main()
