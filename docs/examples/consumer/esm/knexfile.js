// knexfile.js in an app whose package.json says "type": "module": an ES module, like the app.
export default {
  client: 'pg',
  connection: process.env.DATABASE_URL,
  migrations: { directory: './migrations' },
};
