/**
 * The layers of src/, lowest first. A module may import its own layer and any lower layer,
 * never a higher one, so no module imports one that imports it back. Each name is a top-level
 * file (`src/names.ts`) or a folder (`src/db/`), whichever the layout has. `src/index.ts` (the
 * public API) sits above them all. `npm run lint:deps` checks it (CI runs it);
 * docs/architecture.md draws it.
 */
const LAYERS = [
  ['errors', 'logging', 'names'],
  ['db'],
  ['schema'],
  ['options', 'config', 'goals'],
  ['backfill'],
  ['rollback', 'status', 'report'],
  ['migrations', 'seed'],
  ['cli'],
];

/** The files and folders of `names` under src/: `src/<name>.ts` and `src/<name>/…`. */
const modules = (names) => `^src/(${names.join('|')})(\\.ts$|/)`;

const layerRules = LAYERS.slice(0, -1).map((layer, index) => ({
  name: `layer-${layer.join('-')}`,
  comment: `${layer.join(', ')} must not import a higher layer`,
  severity: 'error',
  from: { path: modules(layer) },
  to: { path: modules(LAYERS.slice(index + 1).flat()) },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'no module imports a module that imports it back',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'seeds-call-the-library',
      comment: 'the seeds and migrations use the library, never the CLI',
      severity: 'error',
      from: { path: '^(seeds|migrations)/' },
      to: { path: modules(['cli']) },
    },
    {
      name: 'library-never-loads-the-cli',
      severity: 'error',
      from: { path: '^src/(?!cli/)' },
      to: { path: modules(['cli']) },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    parser: 'swc',
    tsPreCompilationDeps: true,
    exclude: { path: '^(node_modules|dist)' },
  },
};
