"""`python -m tests.support.run_python CODE ARGS...`: runs CODE with sys.argv = [CODE, ARGS...]."""

import sys

if __name__ == "__main__":
    code = sys.argv[1]
    sys.argv = sys.argv[1:]
    exec(compile(code, "<test>", "exec"), {"__name__": "__test__"})
