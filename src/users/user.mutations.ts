/** Mutations of this feature (write API). */
export const userMutations = {};
