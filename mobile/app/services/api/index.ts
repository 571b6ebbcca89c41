export { Api } from "./api";
export type { ApiClient, ApiOptions, ChatStreamOptions, FetchLike } from "./api";
export type { ApiProblem, ApiResult } from "./apiProblem";
export { isTemporary, problemFromResponse } from "./apiProblem";
export * from "./types";
