/**
 * Which Syncwright constructs the translator may emit. `ISSUE_20` (the default) is the grammar on main:
 * the connector constructs of issue 20 (appendOnly, clientSide incremental, computed fields, wildcard
 * paths, session-token auth, `{now}` and the `plus:`/`minus:`/`default:` filters). `TODAY` is the
 * grammar before them, kept so the sample script can still measure what those constructs bought.
 * Each translator asks for a construct by name, so one switch maps onto it.
 */
export interface Constructs {
  /** `appendOnly: true` for streams without a primary key. */
  appendOnly: boolean;
  /** `incremental.clientSide` (and `order: descending` for data feeds). */
  clientSide: boolean;
  /** `fields.<name>.value` templates over `{record.x}`, `{parent.x}`, `{now}`, the window. */
  computedFields: boolean;
  /** `*` segments in `recordsPath`. */
  wildcardPaths: boolean;
  /** `auth.type: session-token`. */
  sessionToken: boolean;
  /** `{now}` and the `plus:`, `minus:` and `default:` filters. */
  timeFunctions: boolean;
  /** `incremental.startDate: '{config.<field>}'`: a start date per connection. */
  configStart: boolean;
  /** `single: auto` on unpaginated JSON resources: an object at recordsPath is one record. */
  singleObject: boolean;
  /** The date side: `incremental.readsAll`, and startDate/endDate as templates, lists and endDate. */
  readsAll: boolean;
  /** A baseUrl host chosen between literal hosts by a config value (`{config.x|eq:v:a:b}`). */
  hostChoice: boolean;
  /** A resource's own static `auth` (a stream that authenticates unlike the others). */
  resourceAuth: boolean;
  /** `auth.type: select`: every option of a SelectiveAuthenticator (before it, only its first). */
  selectAuth: boolean;
}

export const TODAY: Constructs = {
  appendOnly: false,
  clientSide: false,
  computedFields: false,
  wildcardPaths: false,
  sessionToken: false,
  timeFunctions: false,
  configStart: false,
  singleObject: false,
  readsAll: false,
  hostChoice: false,
  resourceAuth: false,
  selectAuth: false,
};

export const ISSUE_20: Constructs = {
  appendOnly: true,
  clientSide: true,
  computedFields: true,
  wildcardPaths: true,
  sessionToken: true,
  timeFunctions: true,
  configStart: true,
  singleObject: true,
  readsAll: true,
  hostChoice: true,
  resourceAuth: true,
  selectAuth: true,
};

/** What the importer emits unless told otherwise: everything main's spec schema accepts. */
export const DEFAULT_CONSTRUCTS: Constructs = ISSUE_20;
