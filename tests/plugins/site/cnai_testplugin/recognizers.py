"""A PI recognizer from an outside package: employee numbers like EMP-123456 (made up for the tests)."""

import re

_RE = re.compile(r"(?<![A-Z0-9])EMP-\d{6}(?!\d)")


class EmployeeId:
    type = "employee_id"

    def find(self, text):
        for m in _RE.finditer(text):
            yield m.start(), m.end(), 0.9, "EMP- prefix and six digits (cnai-testplugin)"


EMPLOYEE_ID = EmployeeId()
