"""Demo data that looks real: thousands of distinct names, in each market's script."""

import random

from customers.demo_data import _name


def test_each_market_draws_thousands_of_distinct_names():
    rng = random.Random(7)
    for country in ("TH", "TW", "MY", "SG"):
        names = {_name(rng, country)[0] for _ in range(3000)}
        assert len(names) > 700, (country, len(names))
    thai = {_name(rng, "TH")[0] for _ in range(20000)}
    assert len(thai) > 1000
