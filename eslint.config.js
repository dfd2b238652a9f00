// Lint: typescript-eslint with type-aware rules (no floating promises, consistent type imports).
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import importX from "eslint-plugin-import-x";

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "slipway-data/**", "test-output/**", "**/*.tsbuildinfo"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: [
            "*.js",
            "*.mjs",
            "scripts/*.mjs",
            "bench/*.mjs",
            "packages/cli/bin/*.js",
            "packages/ui/*.mjs",
            "examples/*/*.mjs",
          ],
          // the plain JavaScript files above (scripts, benches, examples) outnumber the default of 8
          maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 40,
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { "import-x": importX },
    rules: {
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          allowForKnownSafeCalls: [
            {
              from: "package",
              package: "node:test",
              name: ["describe", "it", "test", "suite", "before", "after", "beforeEach", "afterEach"],
            },
          ],
        },
      ],
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false } }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "import-x/no-cycle": "error",
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["@slipway/*/src/*", "@slipway/*/dist/*"], message: "Import a package through its entry point." },
          ],
        },
      ],
    },
  },
  {
    files: ["packages/server/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@slipway/inference", "@slipway/inference/*", "@slipway/*/src/*"],
              message: "server and inference never import each other; import packages through their entry points.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["packages/inference/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@slipway/server", "@slipway/server/*", "@slipway/*/src/*", "@slipway/*/dist/*"],
              message: "server and inference never import each other; import packages through their entry points.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["packages/ml/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: ["@slipway/*"], message: "ml is pure computation and imports nothing of ours." }] },
      ],
    },
  },
  {
    files: ["packages/protocol/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: ["@slipway/*"], message: "protocol imports nothing of ours." }] },
      ],
    },
  },
  {
    // test doubles implement async interfaces without awaiting anything
    files: ["**/*.test.ts", "**/testing/**/*.ts"],
    rules: { "@typescript-eslint/require-await": "off" },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        URL: "readonly",
        fetch: "readonly",
        setTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
        performance: "readonly",
        Buffer: "readonly",
      },
    },
  },
);
