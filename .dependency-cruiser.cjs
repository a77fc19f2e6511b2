/**
 * The layers of src/, lowest first. A folder may import its own layer's folders below it and
 * any lower layer, never a higher one, so no folder imports a folder that imports it back.
 * `npm run lint:deps` checks it (CI runs it); docs/architecture.md draws it.
 */
const LAYERS = [
  ['errors', 'logging'],
  ['db'],
  ['schema'],
  ['config', 'bookkeeping', 'goals'],
  ['backfill', 'rollback', 'status', 'report'],
  ['migrations', 'seed'],
  ['cli'],
];

const folders = (layer) => `^src/(${layer.join('|')})/`;

const layerRules = LAYERS.slice(0, -1).map((layer, index) => ({
  name: `layer-${layer.join('-')}`,
  comment: `${layer.join(', ')} must not import a higher layer`,
  severity: 'error',
  from: { path: folders(layer) },
  to: { path: folders(LAYERS.slice(index + 1).flat()) },
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
      to: { path: '^src/cli/' },
    },
    {
      name: 'library-never-loads-the-cli',
      severity: 'error',
      from: { path: '^src/(?!cli/)' },
      to: { path: '^src/cli/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    parser: 'swc',
    tsPreCompilationDeps: true,
    exclude: { path: '^(node_modules|dist)' },
  },
};
