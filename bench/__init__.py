"""`make bench`: performance of the engine and the UI, each figure beside a baseline measured in the same run.

    python -m bench                      everything (about 4 minutes on 2 cores)
    python -m bench --only detection     one section (repeat --only for more)
    python -m bench --quick              smaller sizes: a smoke test, not a measurement

Sections live in their own modules (detection, fanout, ui, memory, render);
report.py prints the table and writes bench/results/latest.json.
"""
