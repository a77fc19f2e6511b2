// Knex requires migration files through Node's own loader, outside Vitest's transform.
import 'sucrase/register/ts';
