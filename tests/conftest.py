import pytest

from assistant import Assistant


@pytest.fixture(scope="session")
def assistant():
    return Assistant.load(rebuild="never")
