import pytest

from community_levels.ingestion import ingest_stream, parse_file
from community_levels.recompute import levels_recompute
from tests.community_levels.helpers import sample_events, write_jsonl

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("fast", [True, False])
def test_smoke(tmp_path, fast):
    path = write_jsonl(tmp_path / "a.jsonl", sample_events())
    r = ingest_stream(parse_file(path), source="file", fast=fast)
    print(r)
    r2 = ingest_stream(parse_file(path), source="file", fast=fast)
    print(r2)
    res = levels_recompute(full=True)
    print(res)
    assert r2.imported == 0
