"""``python -m bench.run_target TARGET --json PATH [--quick] [--only SCENARIO ...]``

Runs every scenario on one target in this process (Django is configured once
per process) and writes the results as JSON for ``bench.report``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bench.peers import PEER_NAMES
from bench.sizes import FULL, QUICK
from bench.targets import TARGETS


def configure(target) -> None:
    import django
    from django.conf import settings

    settings.configure(
        DATABASES=target.databases(),
        INSTALLED_APPS=["django.contrib.contenttypes", "django_nonrel", "bench"],
        USE_TZ=True,
        DEBUG=False,
        SECRET_KEY="django-nonrel-bench",
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()


def create_tables() -> None:
    from django.apps import apps
    from django.db import connections

    from bench.targets import TEST_RUN_ALIASES

    for alias in connections:
        if alias in TEST_RUN_ALIASES:
            continue
        with connections[alias].schema_editor() as editor:
            for model in apps.get_app_config("bench").get_models():
                if model._meta.managed:
                    editor.create_model(model)


def log(message: str) -> None:
    print(message, flush=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run_target")
    parser.add_argument("target", choices=sorted(TARGETS))
    parser.add_argument("--json", type=Path, required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", action="append", default=[], help="scenario name (repeatable)")
    parser.add_argument(
        "--official-python", help="interpreter with django-mongodb-backend (bench.peers)"
    )
    parser.add_argument("--no-peers", action="store_true", help="measure no peer (bench.peers)")
    options = parser.parse_args(argv)
    target = TARGETS[options.target]
    sizes = QUICK if options.quick else FULL
    output = {"target": target.name, "title": target.title, "sizes": sizes.__dict__}
    reason = target.why_unavailable()
    if reason:
        output["unavailable"] = reason
        log(f"{target.title}: not run: {reason}")
        options.json.write_text(json.dumps(output, indent=1))
        return 0

    configure(target)
    from bench.scenarios import Context, scenario_modules

    started = time.monotonic()
    target.reset()
    create_tables()
    opened = target.open()
    if target.has_peers and options.no_peers:
        opened.add_peers(
            [], dict.fromkeys(PEER_NAMES, "peers not measured in this run (--no-peers)")
        )
    elif target.has_peers:
        opened.add_peers(*target.open_peers(options.official_python))
    output.update(
        versions=opened.versions,
        ratios=opened.ratios,
        unavailable_variants=opened.unavailable,
        peers=[peer.name for peer in opened.peers],
        peers_not_run=opened.peers_not_run,
    )
    ctx = Context(opened, sizes)
    log(f"== {target.title} ({sizes.mode} sizes, {sizes.repeats} repeats)")
    for variant, why in opened.unavailable.items():
        log(f"  variant {variant}: not available on this build: {why}")
    for peer, why in opened.peers_not_run.items():
        log(f"  peer {peer}: not run: {why}")
    from bench.measure import run_case

    results = []
    try:
        for module in scenario_modules():
            name = module.__name__.rsplit(".", 1)[1]
            if options.only and name not in options.only:
                continue
            for case in module.cases(ctx):
                results.append(run_case(case, sizes.repeats, log))
    finally:
        for peer in opened.peers:
            peer.close()
    output["cases"] = results
    output["seconds"] = time.monotonic() - started
    options.json.write_text(json.dumps(output, indent=1, default=str))
    log(f"== {target.title}: {output['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
