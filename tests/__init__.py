import pytest

# The support modules assert too: their failures read as well as a test's.
pytest.register_assert_rewrite("tests.support")
