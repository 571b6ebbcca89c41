"""The real run's cost estimate: instance-hours times cost/prices.json's list prices."""

from smoke.cost import TRAINING_PRICES, Usage, estimate, load_prices


def usage(**overrides):
    values = dict(deployed_hours=2.0, endpoint_instance_type="ml.g5.2xlarge",
                  endpoint_instances=1, search_mode="domain",
                  search_instance_type="t3.small.search", search_instances=1,
                  training=[("ml.g5.2xlarge", 1800.0)])
    return Usage(**{**values, **overrides})


def test_instance_hours_are_priced_from_the_table_and_training_is_not_guessed():
    prices = load_prices()
    lines = estimate(usage(), prices)
    endpoint = 2.0 * prices["sagemaker_hosting_instance_hour"]["ml.g5.2xlarge"]
    search = 2.0 * prices["opensearch_instance_hour"]["t3.small.search"]
    assert f"{endpoint:.2f} USD" in lines[0] and f"{search:.2f} USD" in lines[1]
    assert "not priced" in lines[2]
    assert lines[-1].endswith(f"{endpoint + search:.2f} USD + 1 not priced")


def test_training_is_priced_once_the_table_has_its_price():
    prices = {**load_prices(), TRAINING_PRICES: {"ml.g5.2xlarge": 1.2}}
    lines = estimate(usage(deployed_hours=0.0), prices)
    assert "0.60 USD" in lines[2] and lines[-1].endswith("0.60 USD")


def test_serverless_search_costs_its_minimum_ocus():
    prices = load_prices()
    lines = estimate(usage(search_mode="serverless", search_standby=True, training=[]),
                     prices)
    ocu = prices["opensearch_serverless_min_ocu"]["standby_enabled"]
    assert f"{ocu * prices['opensearch_serverless_ocu_hour'] * 2.0:.2f} USD" in lines[1]
