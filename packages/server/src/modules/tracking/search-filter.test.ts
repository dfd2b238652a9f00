import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { MlflowError } from "@slipway/protocol";
import {
  parseExperimentFilter,
  parseExperimentOrderBy,
  parseRunFilter,
  parseRunOrderBy,
  type FilterClause,
} from "./search-filter.js";

/** Asserts `fn` throws MlflowError(INVALID_PARAMETER_VALUE) whose message equals (or matches) `message`. */
function rejects(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof MlflowError, `expected MlflowError, got ${String(error)}`);
    assert.equal(error.code, "INVALID_PARAMETER_VALUE");
    if (typeof message === "string") assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}

function one(filter: string): FilterClause {
  const clauses = parseRunFilter(filter);
  assert.equal(clauses.length, 1, `one clause from ${filter}`);
  return clauses[0]!;
}

const METRIC_SET = "{'>', '>=', '!=', '=', '<', '<='}";
const STRING_SET = "{'!=', '=', 'LIKE', 'ILIKE'}";
const LIST_SET = "{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}";

void describe("parseRunFilter: empty input", () => {
  void it("returns no clauses for undefined, empty and blank filters", () => {
    assert.deepEqual(parseRunFilter(undefined), []);
    assert.deepEqual(parseRunFilter(""), []);
    assert.deepEqual(parseRunFilter("  \t\n "), []);
  });
});

void describe("parseRunFilter: entity types and aliases", () => {
  for (const alias of ["metric", "metrics"]) {
    void it(`${alias}.<key> is a metric`, () => {
      assert.deepEqual(one(`${alias}.acc > 0.5`), { entity: "metric", key: "acc", comparator: ">", value: 0.5 });
    });
  }
  for (const alias of ["parameter", "parameters", "param", "params"]) {
    void it(`${alias}.<key> is a param`, () => {
      assert.deepEqual(one(`${alias}.lr = '0.01'`), { entity: "param", key: "lr", comparator: "=", value: "0.01" });
    });
  }
  for (const alias of ["tag", "tags"]) {
    void it(`${alias}.<key> is a tag`, () => {
      assert.deepEqual(one(`${alias}.team = 'ml'`), { entity: "tag", key: "team", comparator: "=", value: "ml" });
    });
  }
  for (const alias of ["attribute", "attributes", "attr", "run"]) {
    void it(`${alias}.<key> is an attribute`, () => {
      assert.deepEqual(one(`${alias}.status = 'FINISHED'`), {
        entity: "attribute",
        key: "status",
        comparator: "=",
        value: "FINISHED",
      });
    });
  }
  for (const alias of ["dataset", "datasets"]) {
    void it(`${alias}.<key> is a dataset field`, () => {
      assert.deepEqual(one(`${alias}.name = 'mnist'`), {
        entity: "dataset",
        key: "name",
        comparator: "=",
        value: "mnist",
      });
    });
  }
  void it("a bare key is an attribute", () => {
    assert.deepEqual(one("user_id = 'alice'"), {
      entity: "attribute",
      key: "user_id",
      comparator: "=",
      value: "alice",
    });
  });
  void it("accepts a backtick-quoted entity type", () => {
    assert.equal(one("`metrics`.acc > 1").entity, "metric");
  });
  void it("entity types are case-sensitive", () => {
    rejects(
      () => parseRunFilter("Metrics.acc > 1"),
      "Invalid entity type 'Metrics'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']",
    );
  });
  void it("rejects an unknown entity type with MLflow's message", () => {
    rejects(
      () => parseRunFilter("x.acc > 1"),
      "Invalid entity type 'x'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']",
    );
  });
});

void describe("parseRunFilter: attributes", () => {
  const strings = ["run_id", "run_name", "status", "user_id", "artifact_uri", "lifecycle_stage", "experiment_id"];
  for (const key of strings) {
    for (const comparator of ["=", "!=", "LIKE", "ILIKE"]) {
      void it(`${key} ${comparator} 'v'`, () => {
        assert.deepEqual(one(`${key} ${comparator} 'v'`), { entity: "attribute", key, comparator, value: "v" });
      });
    }
  }
  for (const key of ["start_time", "end_time"]) {
    for (const comparator of [">", ">=", "!=", "=", "<", "<="]) {
      void it(`${key} ${comparator} 123`, () => {
        assert.deepEqual(one(`${key} ${comparator} 123`), { entity: "attribute", key, comparator, value: 123 });
      });
    }
  }
  for (const alias of ["created", "Created"]) {
    void it(`${alias} aliases start_time`, () => {
      assert.deepEqual(one(`${alias} >= 1700000000000`), {
        entity: "attribute",
        key: "start_time",
        comparator: ">=",
        value: 1700000000000,
      });
    });
  }
  for (const alias of ["run name", "Run name", "Run Name"]) {
    void it(`\`${alias}\` and "${alias}" alias run_name`, () => {
      const expected = { entity: "attribute", key: "run_name", comparator: "=", value: "r1" };
      assert.deepEqual(one(`\`${alias}\` = 'r1'`), expected);
      assert.deepEqual(one(`"${alias}" = 'r1'`), expected);
      assert.deepEqual(one(`attributes.\`${alias}\` = 'r1'`), expected);
    });
  }
  void it("run_id IN / NOT IN take a list of single- or double-quoted strings", () => {
    assert.deepEqual(one(`run_id IN ('a', "b",'c')`), {
      entity: "attribute",
      key: "run_id",
      comparator: "IN",
      value: ["a", "b", "c"],
    });
    assert.deepEqual(one("attributes.run_id not in ('a')"), {
      entity: "attribute",
      key: "run_id",
      comparator: "NOT IN",
      value: ["a"],
    });
    assert.deepEqual(one("run_id In(  'x'  ,'y' )"), {
      entity: "attribute",
      key: "run_id",
      comparator: "IN",
      value: ["x", "y"],
    });
  });
  void it("only run_id takes a list", () => {
    for (const key of ["status", "run_name", "user_id", "experiment_id"]) {
      rejects(
        () => parseRunFilter(`${key} IN ('a')`),
        "Only the 'run_id' attribute supports comparison with a list of quoted string values.",
      );
    }
  });
  void it("rejects an unknown attribute key", () => {
    rejects(
      () => parseRunFilter("bogus = 'x'"),
      /^Invalid attribute key 'bogus' specified\. Valid keys are '\{.*'run_id'.*\}'$/,
    );
    rejects(() => parseRunFilter("attributes.name = 'x'"), /^Invalid attribute key 'name' specified/);
  });
  void it("string attributes need quoted strings", () => {
    rejects(() => parseRunFilter("status = 1"), "Expected a quoted string value for attributes. Got value 1");
    rejects(
      () => parseRunFilter("status = FINISHED"),
      "Expected a quoted string value for attributes. Got value FINISHED",
    );
  });
  void it("numeric attributes need numbers", () => {
    rejects(
      () => parseRunFilter("start_time > '5'"),
      "Expected numeric value type for numeric attribute: start_time. Found '5'",
    );
    rejects(
      () => parseRunFilter("created > abc"),
      "Expected numeric value type for numeric attribute: start_time. Found abc",
    );
  });
  void it("rejects comparators the attribute does not take", () => {
    rejects(() => parseRunFilter("status > 'a'"), `Invalid comparator '>' not one of '${STRING_SET}'`);
    rejects(() => parseRunFilter("start_time LIKE 5"), `Invalid comparator 'LIKE' not one of '${METRIC_SET}'`);
    rejects(() => parseRunFilter("run_id ~ 'a'"), `Invalid comparator '~' not one of '${LIST_SET}'`);
  });
  void it("IN needs a list and = does not take one", () => {
    rejects(() => parseRunFilter("run_id IN 'a'"), /^Expected a list of quoted string values for comparator 'IN'/);
    rejects(() => parseRunFilter("run_id = ('a')"), /^Comparator '=' does not accept a list of values/);
  });
});

void describe("parseRunFilter: metrics", () => {
  for (const comparator of [">", ">=", "!=", "=", "<", "<="]) {
    void it(`metrics.acc ${comparator} 1`, () => {
      assert.deepEqual(one(`metrics.acc ${comparator} 1`), { entity: "metric", key: "acc", comparator, value: 1 });
    });
  }
  void it("parses integers, decimals, negatives and exponents", () => {
    const cases: Array<[string, number]> = [
      ["0", 0],
      ["42", 42],
      ["-3", -3],
      ["0.25", 0.25],
      [".5", 0.5],
      ["-.5", -0.5],
      ["1.", 1],
      ["1e3", 1000],
      ["1E3", 1000],
      ["-2.5e-3", -0.0025],
      ["6.02e+23", 6.02e23],
    ];
    for (const [text, value] of cases) assert.equal(one(`metrics.m >= ${text}`).value, value, text);
  });
  void it("needs no whitespace around the comparator", () => {
    assert.deepEqual(one("metrics.acc>=-1"), { entity: "metric", key: "acc", comparator: ">=", value: -1 });
  });
  void it("rejects non-numeric values", () => {
    rejects(() => parseRunFilter("metrics.acc > '0.5'"), "Expected numeric value type for metric. Found '0.5'");
    rejects(() => parseRunFilter('metrics.acc > "0.5"'), 'Expected numeric value type for metric. Found "0.5"');
    rejects(() => parseRunFilter("metrics.acc > high"), "Expected numeric value type for metric. Found high");
    rejects(() => parseRunFilter("metrics.acc IN (1, 2)"), "Expected numeric value type for metric. Found (1, 2)");
  });
  void it("rejects string comparators", () => {
    for (const comparator of ["LIKE", "ILIKE", "~", "==", "<>", "=>"]) {
      rejects(
        () => parseRunFilter(`metrics.acc ${comparator} 1`),
        `Invalid comparator '${comparator}' not one of '${METRIC_SET}'`,
      );
    }
  });
});

void describe("parseRunFilter: params and tags", () => {
  for (const [prefix, entity] of [
    ["params", "param"],
    ["tags", "tag"],
  ] as const) {
    for (const comparator of ["=", "!=", "LIKE", "ILIKE"]) {
      void it(`${prefix}.k ${comparator} 'v'`, () => {
        assert.deepEqual(one(`${prefix}.k ${comparator} 'v'`), { entity, key: "k", comparator, value: "v" });
      });
    }
    void it(`${prefix}: rejects numeric comparators`, () => {
      for (const comparator of [">", ">=", "<", "<="]) {
        rejects(
          () => parseRunFilter(`${prefix}.k ${comparator} 'v'`),
          `Invalid comparator '${comparator}' not one of '${STRING_SET}'`,
        );
      }
      rejects(
        () => parseRunFilter(`${prefix}.k IN ('v')`),
        /^Expected a quoted string value for (parameter|tag) \(e\.g\. 'my-value'\)\. Got value \('v'\)$/,
      );
    });
  }
  void it("rejects unquoted values", () => {
    rejects(
      () => parseRunFilter("params.lr = 0.01"),
      "Expected a quoted string value for parameter (e.g. 'my-value'). Got value 0.01",
    );
    rejects(
      () => parseRunFilter("params.lr = abc"),
      "Expected a quoted string value for parameter (e.g. 'my-value'). Got value abc",
    );
    rejects(
      () => parseRunFilter("tags.t = `abc`"),
      "Expected a quoted string value for tag (e.g. 'my-value'). Got value `abc`",
    );
  });
});

void describe("parseRunFilter: datasets", () => {
  for (const key of ["name", "digest", "context"]) {
    for (const comparator of ["=", "!=", "LIKE", "ILIKE"]) {
      void it(`dataset.${key} ${comparator} 'v'`, () => {
        assert.deepEqual(one(`dataset.${key} ${comparator} 'v'`), { entity: "dataset", key, comparator, value: "v" });
      });
    }
    void it(`dataset.${key} IN / NOT IN`, () => {
      assert.deepEqual(one(`datasets.${key} IN ('a', 'b')`), {
        entity: "dataset",
        key,
        comparator: "IN",
        value: ["a", "b"],
      });
      assert.deepEqual(one(`datasets.${key} NOT IN ('a')`), {
        entity: "dataset",
        key,
        comparator: "NOT IN",
        value: ["a"],
      });
    });
  }
  void it("rejects other dataset keys, numbers and numeric comparators", () => {
    rejects(
      () => parseRunFilter("dataset.source = 'x'"),
      "Invalid dataset key 'source' specified. Valid keys are '{'name', 'digest', 'context'}'",
    );
    rejects(
      () => parseRunFilter("dataset.name = 1"),
      "Expected a quoted string value for dataset attributes. Got value 1",
    );
    rejects(() => parseRunFilter("dataset.name > 'a'"), `Invalid comparator '>' not one of '${LIST_SET}'`);
  });
});

void describe("parseRunFilter: quoting and lexing", () => {
  void it("quotes keys with backticks or double quotes", () => {
    assert.equal(one("metrics.`my metric` > 1").key, "my metric");
    assert.equal(one('metrics."my metric" > 1').key, "my metric");
    assert.equal(one("tags.\"mlflow.runName\" = 'r'").key, "mlflow.runName");
    assert.equal(one("tags.`a``b` = 'r'").key, "a`b");
    assert.equal(one('tags."a""b" = \'r\'').key, 'a"b');
  });
  void it("keeps dots after the first as part of an unquoted key", () => {
    assert.equal(one("tags.mlflow.source.type = 'LOCAL'").key, "mlflow.source.type");
    assert.equal(one("metrics.1st_epoch > 0").key, "1st_epoch");
  });
  void it("takes single- and double-quoted values with escapes", () => {
    assert.equal(one("params.p = 'it''s'").value, "it's");
    assert.equal(one("params.p = 'it\\'s'").value, "it's");
    assert.equal(one('params.p = "say ""hi"""').value, 'say "hi"');
    assert.equal(one('params.p = "a\\"b"').value, 'a"b');
    assert.equal(one("params.p = 'back\\\\slash'").value, "back\\slash");
    assert.equal(one("params.p = 'a\\_b'").value, "a\\_b");
    assert.equal(one("params.p = ''").value, "");
    assert.equal(one("params.p = 'with AND inside'").value, "with AND inside");
    assert.equal(one("params.p = 'ünïcödé ✓'").value, "ünïcödé ✓");
  });
  void it("keywords are case-insensitive and whitespace is free", () => {
    const expected = [
      { entity: "metric", key: "a", comparator: ">", value: 1 },
      { entity: "param", key: "b", comparator: "LIKE", value: "x%" },
      { entity: "tag", key: "c", comparator: "ILIKE", value: "%y" },
      { entity: "attribute", key: "run_id", comparator: "NOT IN", value: ["r"] },
    ];
    assert.deepEqual(
      parseRunFilter("metrics.a > 1 and params.b like 'x%' AnD tags.c iLike '%y' AND run_id nOt In ('r')"),
      expected,
    );
    assert.deepEqual(
      parseRunFilter("\n\tmetrics.a>1\n AND\tparams.b   LIKE'x%'AND tags.c ILIKE \"%y\" and run_id NOT IN('r')  "),
      expected,
    );
  });
  void it("returns clauses in order, repeated keys included", () => {
    assert.deepEqual(
      parseRunFilter("metrics.a > 1 and metrics.a < 2").map((c) => c.comparator),
      [">", "<"],
    );
  });
});

void describe("parseRunFilter: structural rejections", () => {
  const cases: Array<[string, string | RegExp]> = [
    ["metrics.a > 1 OR metrics.b > 2", "Invalid clause(s) in filter string: 'OR metrics.b > 2'"],
    ["metrics.a > 1 metrics.b > 2", "Invalid clause(s) in filter string: 'metrics.b > 2'"],
    ["metrics.a > 1 AND", "Invalid clause(s) in filter string: 'AND'"],
    ["AND metrics.a > 1", "Invalid clause(s) in filter string: 'AND metrics.a > 1'"],
    ["metrics.a > 1 AND AND metrics.b > 1", "Invalid clause(s) in filter string: 'AND metrics.b > 1'"],
    ["metrics.a >", "Invalid clause(s) in filter string: 'metrics.a >'"],
    ["metrics.a", "Invalid clause(s) in filter string: 'metrics.a'"],
    ["> 1", "Invalid clause(s) in filter string: '> 1'"],
    ["(metrics.a > 1)", "Invalid clause(s) in filter string: '(metrics.a > 1)'"],
    ["NOT metrics.a > 1", /^Invalid clause\(s\) in filter string: /],
    ["params.a NOT LIKE 'x'", "Invalid clause(s) in filter string: 'params.a NOT LIKE 'x''"],
    ["metrics.a > 1; DROP TABLE runs", /^Invalid clause\(s\) in filter string: ';/],
    ["metrics.a > 1abc", "Invalid clause(s) in filter string: 'metrics.a > 1abc'"],
    ["'x' = params.a", "Invalid clause(s) in filter string: ''x' = params.a'"],
    ["params.a = 'unterminated", "Invalid filter 'params.a = 'unterminated'. Could not be parsed."],
    ["tags.\"open = 'x'", /^Invalid filter '.*'\. Could not be parsed\.$/],
    [
      "run_id IN ()",
      "While parsing a list in the query, expected a non-empty list of string values, but got empty list",
    ],
    [
      "run_id IN ('a', 1)",
      "While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: ('a', 1)",
    ],
    [
      "run_id IN ('a',)",
      "While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.",
    ],
    [
      "run_id IN ('a' 'b')",
      "While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.",
    ],
    [
      "run_id IN ('a' = 'b')",
      "While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.",
    ],
    [
      "dataset.name IN ()",
      "While parsing a list in the query, expected a non-empty list of string values, but got empty list",
    ],
    [
      "run_id IN ('a'",
      "While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.",
    ],
  ];
  for (const [filter, message] of cases) {
    void it(JSON.stringify(filter), () => rejects(() => parseRunFilter(filter), message));
  }
});

void describe("parseRunOrderBy", () => {
  void it("returns nothing without order_by", () => {
    assert.deepEqual(parseRunOrderBy(undefined), []);
    assert.deepEqual(parseRunOrderBy([]), []);
  });
  void it("parses every entity with directions (default ASC, keywords case-insensitive)", () => {
    assert.deepEqual(
      parseRunOrderBy([
        "metrics.acc DESC",
        "params.lr",
        "tags.`team name` asc",
        "attributes.start_time Desc",
        "created",
        "run_name ASC",
        'metric."val loss" desc',
      ]),
      [
        { entity: "metric", key: "acc", ascending: false },
        { entity: "param", key: "lr", ascending: true },
        { entity: "tag", key: "team name", ascending: true },
        { entity: "attribute", key: "start_time", ascending: false },
        { entity: "attribute", key: "start_time", ascending: true },
        { entity: "attribute", key: "run_name", ascending: true },
        { entity: "metric", key: "val loss", ascending: false },
      ],
    );
  });
  void it("treats a wholly quoted identifier as unquoted before splitting, as MLflow does", () => {
    assert.deepEqual(parseRunOrderBy(["`metrics.acc` DESC"]), [{ entity: "metric", key: "acc", ascending: false }]);
  });
  void it("accepts every orderable attribute", () => {
    for (const key of [
      "artifact_uri",
      "end_time",
      "experiment_id",
      "lifecycle_stage",
      "run_id",
      "run_name",
      "start_time",
      "status",
      "user_id",
      "Created",
    ]) {
      assert.equal(parseRunOrderBy([key])[0]!.entity, "attribute", key);
    }
  });
  void it("rejects malformed terms", () => {
    rejects(() => parseRunOrderBy([""]), "Invalid order_by clause ''. Could not be parsed.");
    rejects(
      () => parseRunOrderBy(["metrics.acc DESC extra"]),
      "Invalid order_by clause 'metrics.acc DESC extra'. Could not be parsed.",
    );
    rejects(
      () => parseRunOrderBy(["metrics.acc sideways"]),
      "Invalid ordering key in order_by clause 'metrics.acc sideways'.",
    );
    rejects(
      () => parseRunOrderBy(["metrics.acc > 1"]),
      "Invalid order_by clause 'metrics.acc > 1'. Could not be parsed.",
    );
    rejects(() => parseRunOrderBy(["'metrics.acc'"]), "Invalid order_by clause ''metrics.acc''. Could not be parsed.");
    rejects(() => parseRunOrderBy(["metrics.`acc"]), "Invalid order_by clause 'metrics.`acc'. Could not be parsed.");
    rejects(() => parseRunOrderBy(["bogus"]), /^Invalid attribute key 'bogus' specified/);
    rejects(() => parseRunOrderBy(["foo.bar"]), /^Invalid entity type 'foo'/);
    rejects(() => parseRunOrderBy(["dataset.name"]), "Invalid identifier type 'dataset'");
  });
});

void describe("parseExperimentFilter", () => {
  void it("parses name, times and tags", () => {
    assert.deepEqual(
      parseExperimentFilter(
        "name LIKE 'exp%' and tags.team = 'ml' and creation_time > 5 and attribute.last_update_time <= 10",
      ),
      [
        { entity: "attribute", key: "name", comparator: "LIKE", value: "exp%" },
        { entity: "tag", key: "team", comparator: "=", value: "ml" },
        { entity: "attribute", key: "creation_time", comparator: ">", value: 5 },
        { entity: "attribute", key: "last_update_time", comparator: "<=", value: 10 },
      ],
    );
    assert.deepEqual(parseExperimentFilter('tag."a b" ILIKE "%x%"'), [
      { entity: "tag", key: "a b", comparator: "ILIKE", value: "%x%" },
    ]);
    assert.deepEqual(parseExperimentFilter(undefined), []);
  });
  void it("accepts every comparator of each key", () => {
    for (const c of ["=", "!=", "LIKE", "ILIKE"])
      assert.equal(parseExperimentFilter(`name ${c} 'x'`)[0]!.comparator, c);
    for (const c of ["=", "!=", "LIKE", "ILIKE"])
      assert.equal(parseExperimentFilter(`tags.k ${c} 'x'`)[0]!.comparator, c);
    for (const c of [">", ">=", "!=", "=", "<", "<="])
      assert.equal(parseExperimentFilter(`creation_time ${c} 1`)[0]!.comparator, c);
  });
  void it("rejects other entities, keys, values and comparators", () => {
    rejects(
      () => parseExperimentFilter("metrics.a > 1"),
      "Invalid entity type 'metrics'. Valid entity types are ('attribute', 'tag', 'tags')",
    );
    rejects(
      () => parseExperimentFilter("params.a = 'x'"),
      "Invalid entity type 'params'. Valid entity types are ('attribute', 'tag', 'tags')",
    );
    rejects(
      () => parseExperimentFilter("experiment_id = '1'"),
      "Invalid attribute key 'experiment_id' specified. Valid keys are '{'name', 'creation_time', 'last_update_time'}'",
    );
    rejects(() => parseExperimentFilter("name = 1"), "Expected a quoted string value for attributes. Got value 1");
    rejects(() => parseExperimentFilter("name > 'a'"), `Invalid comparator '>' not one of '${STRING_SET}'`);
    rejects(
      () => parseExperimentFilter("creation_time > 'a'"),
      "Expected numeric value type for numeric attribute: creation_time. Found 'a'",
    );
    rejects(
      () => parseExperimentFilter("tags.t = 5"),
      "Expected a quoted string value for tag (e.g. 'my-value'). Got value 5",
    );
    rejects(
      () => parseExperimentFilter("name = 'a' OR name = 'b'"),
      "Invalid clause(s) in filter string: 'OR name = 'b''",
    );
  });
});

void describe("parseExperimentOrderBy", () => {
  void it("parses the orderable attributes", () => {
    assert.deepEqual(
      parseExperimentOrderBy(["name", "experiment_id DESC", "creation_time asc", "attribute.last_update_time DESC"]),
      [
        { entity: "attribute", key: "name", ascending: true },
        { entity: "attribute", key: "experiment_id", ascending: false },
        { entity: "attribute", key: "creation_time", ascending: true },
        { entity: "attribute", key: "last_update_time", ascending: false },
      ],
    );
  });
  void it("rejects tags and other keys", () => {
    rejects(() => parseExperimentOrderBy(["tags.team DESC"]), "Invalid order_by entity: tag");
    rejects(
      () => parseExperimentOrderBy(["artifact_location"]),
      /^Invalid attribute key 'artifact_location' specified/,
    );
    rejects(() => parseExperimentOrderBy(["name up"]), "Invalid ordering key in order_by clause 'name up'.");
  });
});

void describe("property: parser never throws anything but INVALID_PARAMETER_VALUE", () => {
  const check = (filter: string) => {
    try {
      parseRunFilter(filter);
      parseExperimentFilter(filter);
    } catch (error) {
      if (!(error instanceof MlflowError) || error.code !== "INVALID_PARAMETER_VALUE") throw error;
    }
    try {
      parseRunOrderBy([filter]);
      parseExperimentOrderBy([filter]);
    } catch (error) {
      if (!(error instanceof MlflowError) || error.code !== "INVALID_PARAMETER_VALUE") throw error;
    }
  };
  void it("on arbitrary strings", () => {
    fc.assert(fc.property(fc.string({ unit: "grapheme", maxLength: 60 }), check), { numRuns: 2000 });
  });
  void it("on strings built from DSL fragments", () => {
    const fragment = fc.constantFrom(
      "metrics.",
      "params.",
      "tags.",
      "attributes.",
      "dataset.",
      "acc",
      "run_id",
      "start_time",
      "`a b`",
      '"k"',
      "'v'",
      "'",
      '"',
      "`",
      " ",
      "=",
      "!=",
      ">",
      "<=",
      "~",
      " AND ",
      " and ",
      " IN ",
      " NOT ",
      " LIKE ",
      "ILIKE",
      "(",
      ")",
      ",",
      "1",
      "-2.5e3",
      ".",
      "\\",
      " DESC",
    );
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 12 }), (parts) => check(parts.join(""))),
      { numRuns: 3000 },
    );
  });
});
