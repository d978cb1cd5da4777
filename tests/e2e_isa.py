"""nnlab compiles its kernels three times, for x86-64-v4 (AVX-512),
x86-64-v3 (AVX2 + FMA) and baseline x86-64, and picks one at load time
(src/nnlab.h). Builds whose kernels were compiled once, for one of these
(NNLAB_ONE_ISA; tests/CMakeLists.txt), must give nnlab's results bit for
bit: on tests/isa.yaml (every kernel path) and on the tutorial's network with
the raw digits (the first layer's sparse path). Builds this CPU cannot run
are skipped, and the test says which. `nnlab --version --verbose` must name
the clone nnlab runs, and each one-ISA build its instruction set.

Which builds this CPU runs is what libgcc's resolver finds, as nnlab reports
it, not /proc/cpuinfo: a virtual machine may leave flags out of it (the
development VM hides abm, LZCNT, which x86-64-v3 needs) while the CPU runs
the instructions and the resolver, asking CPUID, picks the x86-64-v4 clone."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from nnlab_testing import results_contents

NNLAB = os.environ["NNLAB"]
BUILDS = os.environ["NNLAB_ISA_DIR"]
SRC = os.environ["NNLAB_SOURCE_DIR"]
# The one-ISA builds, by the clone of nnlab that runs on a CPU able to run them.
BUILDS_FOR = {"default": ["x86_64"], "x86-64-v3": ["x86_64", "x86_64_v3"],
              "x86-64-v4": ["x86_64", "x86_64_v3", "x86_64_v4"]}
ONE_ISA = {"x86_64": "x86-64", "x86_64_v3": "x86-64-v3", "x86_64_v4": "x86-64-v4"}
EXPERIMENTS = {"isa": [os.path.join(SRC, "tests", "isa.yaml")],
               "isa-adamw": [os.path.join(SRC, "tests", "isa.yaml"), "training.optimizer=adamw,momentum",
                             "training.l2=0"],
               "tutorial": [os.path.join(SRC, "experiments", "seed-baseline.yaml"), "training.epochs=3",
                            "seeds=[1, 2]"]}


def kernels(nnlab):
    """The kernel build a binary reports on its `kernels:` line, and the whole line."""
    r = subprocess.run([nnlab, "--version", "--verbose"], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("%s --version --verbose: exit %d\n%s" % (nnlab, r.returncode, r.stderr))
    m = re.search(r"^kernels: (\S+) (.*)$", r.stdout, re.M)
    if not m:
        raise AssertionError("%s --version --verbose names no kernels:\n%s" % (nnlab, r.stdout))
    return m.group(1), m.group(0)


def runnable():
    """The one-ISA builds this CPU runs: those at or below the clone nnlab's resolver picked."""
    return BUILDS_FOR[kernels(NNLAB)[0]]


class OneIsaBuilds(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nnlab_isa_")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def run_experiment(self, nnlab, name, tag):
        out = os.path.join(self.tmp, "%s-%s" % (name, tag))
        r = subprocess.run([nnlab, "run", *EXPERIMENTS[name], "-o", out, "-j", "2", "--quiet"],
                           capture_output=True, text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        return results_contents(os.path.join(out, "results.h5"))

    def test_version_names_the_kernels(self):
        name, line = kernels(NNLAB)
        self.assertIn(name, BUILDS_FOR, line)
        self.assertIn("the clone this CPU runs", line)
        for isa in runnable():
            with self.subTest(isa=isa):
                got, line = kernels(os.path.join(BUILDS, "nnlab_" + isa))
                self.assertEqual(got, ONE_ISA[isa], line)
                self.assertIn("NNLAB_ONE_ISA", line)

    def test_every_build_gives_nnlabs_bits(self):
        builds = runnable()
        skipped = sorted(set(ONE_ISA) - set(builds))
        if skipped:
            print("this CPU cannot run the builds for %s: skipped" % ", ".join(skipped))
        for isa in ONE_ISA:  # built whether or not this CPU runs them
            self.assertTrue(os.access(os.path.join(BUILDS, "nnlab_" + isa), os.X_OK), isa)
        for name in EXPERIMENTS:
            want = self.run_experiment(NNLAB, name, "nnlab")
            self.assertGreater(len(want), 10)
            for isa in builds:
                with self.subTest(experiment=name, isa=isa):
                    got = self.run_experiment(os.path.join(BUILDS, "nnlab_" + isa), name, isa)
                    self.assertEqual(sorted(got), sorted(want))
                    differ = [k for k in want if got[k] != want[k]]
                    if differ:
                        self.fail("%s differs from nnlab in %d of %d datasets, such as %s"
                                  % (isa, len(differ), len(want), ", ".join(sorted(differ)[:4])))


if __name__ == "__main__":
    unittest.main(verbosity=2)
