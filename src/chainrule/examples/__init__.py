"""The five seed tutorials, reproduced with chainrule's public API.

Each module is a script: ``python -m chainrule.examples.seed_000_truth_table`` (or
``python examples/seed_000_truth_table.py`` from a checkout) prints what its tutorial printed.
Each also has a ``run()`` that returns the numbers, which the tests compare with the tutorial.
"""

SEEDS = {
    "000": "seed_000_truth_table",
    "001": "seed_001_admissions",
    "002": "seed_002_xor_train",
    "003": "seed_003_matrix_backprop",
    "004": "seed_004_study_hours",
}
