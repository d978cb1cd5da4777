"""nnlab compiles its kernels three times, for x86-64-v4 (AVX-512),
x86-64-v3 (AVX2 + FMA) and baseline x86-64, and picks one at load time
(src/nnlab.h). Builds whose kernels were compiled once, for one of these
(NNLAB_ONE_ISA; tests/CMakeLists.txt), must give nnlab's results bit for
bit: on tests/isa.yaml (every kernel path) and on the tutorial's network with
the raw digits (the first layer's sparse path). Builds this CPU cannot run
are skipped, and the test says which."""
import os
import shutil
import subprocess
import tempfile
import unittest

from nnlab_testing import results_contents

NNLAB = os.environ["NNLAB"]
BUILDS = os.environ["NNLAB_ISA_DIR"]
SRC = os.environ["NNLAB_SOURCE_DIR"]
# The CPU flags each instruction set needs (as /proc/cpuinfo names them).
V3 = {"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"}
NEEDS = {"x86_64": set(), "x86_64_v3": V3,
         "x86_64_v4": V3 | {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}}
EXPERIMENTS = {"isa": [os.path.join(SRC, "tests", "isa.yaml")],
               "tutorial": [os.path.join(SRC, "experiments", "seed-baseline.yaml"), "training.epochs=3",
                            "seeds=[1, 2]"]}


def cpu_flags():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


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

    def test_every_build_gives_nnlabs_bits(self):
        flags = cpu_flags()
        runnable = [isa for isa in sorted(NEEDS) if NEEDS[isa] <= flags]
        skipped = sorted(set(NEEDS) - set(runnable))
        if skipped:
            print("this CPU cannot run the builds for %s: skipped" % ", ".join(skipped))
        for isa in NEEDS:  # built whether or not this CPU runs them
            self.assertTrue(os.access(os.path.join(BUILDS, "nnlab_" + isa), os.X_OK), isa)
        for name in EXPERIMENTS:
            want = self.run_experiment(NNLAB, name, "nnlab")
            self.assertGreater(len(want), 10)
            for isa in runnable:
                with self.subTest(experiment=name, isa=isa):
                    got = self.run_experiment(os.path.join(BUILDS, "nnlab_" + isa), name, isa)
                    self.assertEqual(sorted(got), sorted(want))
                    differ = [k for k in want if got[k] != want[k]]
                    if differ:
                        self.fail("%s differs from nnlab in %d of %d datasets, such as %s"
                                  % (isa, len(differ), len(want), ", ".join(sorted(differ)[:4])))


if __name__ == "__main__":
    unittest.main(verbosity=2)
