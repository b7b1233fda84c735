/** Queries and type fields of this feature (read API). */
export const skillResolvers = {};
