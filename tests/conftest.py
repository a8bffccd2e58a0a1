import pytest

from tests.factories import make_letter


@pytest.fixture
def letter(db):
    return make_letter()
