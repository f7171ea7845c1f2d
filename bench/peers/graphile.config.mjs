// PostGraphile v5 over the archive's own tables, as bench/peers/postgraphile.sh runs it.
// Copied next to node_modules before starting, because the imports resolve from this file's
// directory.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";
import { PgSimplifyInflectionPreset } from "@graphile/simplify-inflection";
import { PostGraphileConnectionFilterPreset } from "postgraphile-plugin-connection-filter";

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [
    PostGraphileAmberPreset,
    // `releases` and `releaseBySlug` rather than `allReleases` and `releaseBySlug`.
    PgSimplifyInflectionPreset,
    // `filter:`: Q2 needs a date range and a filter through release_programme.
    PostGraphileConnectionFilterPreset,
  ],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public"],
      // The same pool size as the api's default (--db-max-connections 16).
      poolConfig: { max: Number(process.env.PG_POOL_MAX || 16) },
    }),
  ],
  schema: {
    connectionFilterRelations: true,
  },
  grafserv: {
    host: "127.0.0.1",
    port: Number(process.env.PORT || 5688),
    graphiql: false,
    watch: false,
  },
  grafast: { explain: false },
};
export default preset;
