// Lint for src/, register.ts, test/, examples/, bench/ and scripts/*.js: typescript-eslint's
// recommended rules, node: for built-in modules, and a line length of 120 (strings, templates,
// URLs and regular expressions may run longer: breaking them would hide what they say).
import js from '@eslint/js';
import stylistic from '@stylistic/eslint-plugin';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'node_modules/', 'prebuilds/', 'docs/reference/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    plugins: { '@stylistic': stylistic },
    rules: {
      '@stylistic/max-len': ['error', {
        code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreUrls: true, ignoreRegExpLiterals: true,
      }],
      '@stylistic/semi': ['error', 'always'],
      '@stylistic/quotes': ['error', 'single', { avoidEscape: true, allowTemplateLiterals: 'always' }],
      '@stylistic/indent': ['error', 2, { SwitchCase: 1, ignoredNodes: ['TemplateLiteral *'] }],
      '@stylistic/eol-last': 'error',
      '@stylistic/no-trailing-spaces': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Addon, node-gyp-build and fixtures are loaded with require() on purpose (lazily, or by computed path).
      '@typescript-eslint/no-require-imports': 'off',
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(assert|buffer|child_process|crypto|dgram|dns|events|fs|http|https|net|os|path|stream|tls|url|util|worker_threads|zlib)(/.*)?$', message: 'use the node: prefix' }] }],
    },
  },
);
