-- The model price table inside ClickHouse, so that SQL (the Grafana dashboard) prices tokens the way the
-- UI and the CLI do, at query time. `tracehouse migrate` writes it from the table they use: the built-in
-- defaults with the --prices file (TRACEHOUSE_PRICES) over them (writePriceTable). Each write is a new
-- generation of the whole table; model_prices_current is the latest, keyed by the name a price is looked
-- up under (lower case, without a trailing release date: priceKey in cost.ts).

CREATE TABLE IF NOT EXISTS {{database}}.model_prices{{on_cluster}}
(
    generation UInt64,
    model String,
    input_per_million Float64,
    output_per_million Float64,
    cached_input_per_million Float64
)
ENGINE = {{engine:ReplacingMergeTree}}
ORDER BY (generation, model)
{{settings}};

CREATE VIEW IF NOT EXISTS {{database}}.model_prices_current{{on_cluster}}
AS SELECT model, input_per_million, output_per_million, cached_input_per_million
FROM {{database}}.model_prices
WHERE generation = (SELECT max(generation) FROM {{database}}.model_prices)
LIMIT 1 BY model;
{{#cluster}}

CREATE TABLE IF NOT EXISTS {{database}}.model_prices_all{{on_cluster}}
AS {{database}}.model_prices
ENGINE = Distributed({{cluster}}, {{database}}, model_prices, rand());

CREATE OR REPLACE VIEW {{database}}.model_prices_current{{on_cluster}}
AS SELECT model, input_per_million, output_per_million, cached_input_per_million
FROM {{database}}.model_prices_all
WHERE generation = (SELECT max(generation) FROM {{database}}.model_prices_all)
LIMIT 1 BY model;
{{/cluster}}
