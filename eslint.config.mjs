// Lint config: typescript-eslint's recommended rules, and Pulumi's (an Output in a template literal
// prints a placeholder, not its value) with type information where Outputs live; run by `npm run lint`
// and by .ci/run.
import tseslint from "typescript-eslint";
import pulumi from "@pulumi/eslint-plugin";

export default tseslint.config(
  {
    ignores: [
      "node_modules/**",
      "policy/node_modules/**",
      "out/**",
      ".cache/**",
      "bin/**",
      "tools/node22.cjs",
      // Generated from the upstream CRDs (tools/crdTypes.ts).
      "models/crds/**",
    ],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "error",
    },
  },
  {
    files: ["index.ts", "components/**/*.ts", "models/**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { pulumi },
    rules: {
      "pulumi/no-output-in-template-literal": "error",
      "pulumi/no-output-instance-in-template-literal": "error",
    },
  },
);
