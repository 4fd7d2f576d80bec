"""Runs one jupyter_kernel_test suite file and reports each check as JSON.

The jest wrapper (harness.ts) calls this twice:
  run_suite.py --list SUITE.py            prints the test method names, one JSON array
  run_suite.py --report OUT.json SUITE.py runs the suite and writes each outcome to OUT.json

The usual unittest -v text still goes to stderr for people reading logs; the
JSON report is what the wrapper trusts, so kernel chatter cannot confuse it.
"""

import argparse
import faulthandler
import importlib.util
import json
import sys
import unittest
from pathlib import Path


CHECK_STACK_DUMP_AFTER_S = 60


def load_suite_module(path):
    spec = importlib.util.spec_from_file_location(Path(path).stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_names(module):
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    names = []
    for test in iterate_tests(suite):
        names.append(test._testMethodName)
    return sorted(set(names))


def iterate_tests(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from iterate_tests(item)
        else:
            yield item


class RecordingResult(unittest.TextTestResult):
    """Keeps one record per test method, with its subtests, besides the text output."""

    # Set before the run: where the report goes. It is rewritten after every
    # check, so a suite killed for hanging still reports the checks it finished.
    report_path = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.records = {}

    def save(self):
        Path(self.report_path).write_text(json.dumps(list(self.records.values()), indent=2))

    def record_for(self, test):
        # setUpClass failures arrive as an _ErrorHolder that has no method name.
        name = getattr(test, "_testMethodName", None) or test.id()
        return self.records.setdefault(name, {"name": name, "outcome": "ok", "details": [], "subtests": []})

    @staticmethod
    def worse(current, new):
        order = ["running", "ok", "skip", "fail", "error"]
        return max(current, new, key=order.index)

    def startTest(self, test):
        super().startTest(test)
        # Marked as running until it stops, so a hang names the check that hung.
        self.record_for(test)["outcome"] = "running"
        # Some checks wait for replies without a timeout; if one hangs, show where.
        faulthandler.dump_traceback_later(CHECK_STACK_DUMP_AFTER_S, exit=False)

    def stopTest(self, test):
        faulthandler.cancel_dump_traceback_later()
        super().stopTest(test)
        record = self.record_for(test)
        if record["outcome"] == "running":
            record["outcome"] = "ok"
        self.save()

    def addFailure(self, test, err):
        super().addFailure(test, err)
        record = self.record_for(test)
        record["outcome"] = self.worse(record["outcome"], "fail")
        record["details"].append(self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        record = self.record_for(test)
        record["outcome"] = self.worse(record["outcome"], "error")
        record["details"].append(self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        # A SkipTest raised inside subTest() reports the _SubTest, not the method.
        parent = getattr(test, "test_case", None)
        if parent is not None:
            self.record_for(parent)["subtests"].append(
                {"description": test._subDescription(), "outcome": "skip", "details": reason}
            )
            return
        record = self.record_for(test)
        record["outcome"] = self.worse(record["outcome"], "skip")
        record["details"].append(f"skipped: {reason}")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        record = self.record_for(test)
        if err is None:
            outcome, details = "ok", ""
        else:
            outcome = "fail" if issubclass(err[0], test.failureException) else "error"
            details = self._exc_info_to_string(err, test)
            record["outcome"] = self.worse(record["outcome"], outcome)
            record["details"].append(f"{subtest._subDescription()}\n{details}")
        record["subtests"].append(
            {"description": subtest._subDescription(), "outcome": outcome, "details": details}
        )


def run(module, report_path):
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    RecordingResult.report_path = report_path
    runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=2, resultclass=RecordingResult)
    result = runner.run(suite)
    result.save()  # also covers errors outside any check, such as setUpClass
    return result.wasSuccessful()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("suite", help="path of a python file holding KernelTests subclasses")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--list", action="store_true", help="print the check names as a JSON array")
    mode.add_argument("--report", metavar="OUT.json", help="run the checks and write their outcomes here")
    args = parser.parse_args()

    module = load_suite_module(args.suite)
    if args.list:
        print(json.dumps(check_names(module)))
        return 0
    return 0 if run(module, args.report) else 1


if __name__ == "__main__":
    sys.exit(main())
