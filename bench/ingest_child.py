"""Run the real ingestion path on one file in a process of its own, so its peak memory can be read.

`python -m bench.ingest_child PATH SOURCE` prints the IngestResult as JSON.
"""

import json
import sys

from bench import env


def main() -> None:
    path, source = sys.argv[1], sys.argv[2]
    env.setup_django()
    from community_levels.services import activity_ingest_file

    result = activity_ingest_file(path=path, source=source, recompute=False)
    print(json.dumps({k: v for k, v in result.as_dict().items() if k != "errors"} | {"errors": result.errors[:5]}))


if __name__ == "__main__":
    main()
