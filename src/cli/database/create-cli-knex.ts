export { CONNECT_TIMEOUT_MS, createCliKnex } from '../../config/knex';
