/**
 * The YAML specs of the connector-construct tests (test/integration/connector-constructs.test.ts), one
 * per construct, written as a user would, against the construct server's port.
 */
import type { ConstructServer } from './construct-providers.js';

export const constructSpecs = (s: Pick<ConstructServer, 'url' | 'port'>): Record<string, string> => ({
  // Interpolation everywhere: the host and a path segment of baseUrl, the token URL, the request path
  // (the window's day), query values (the window as unix seconds) and a header ({now}).
  tenant: `
id: tenant-events
baseUrl: http://{config.host}:${s.port}/api/{config.account}
connectionConfig:
  host: { type: string, pattern: '^[a-z0-9.-]+$' }
  account: { type: string, pattern: '^[a-z0-9-]+$' }
  since: { type: string, required: false }
  until: { type: number, required: false }
secrets: { client_id: client id, client_secret: client secret }
auth:
  type: oauth2-client-credentials
  tokenUrl: http://{config.host}:${s.port}/oauth/{config.account}/token
  clientId: client_id
  clientSecret: client_secret
resources:
  events:
    request:
      path: /events/{window.start|yyyy-MM-dd}
      query: { start: '{window.start|unix}', end: '{window.end|unix}' }
      headers: { x-requested-on: '{now|date}' }
    recordsPath: events
    primaryKey: id
    fields:
      id: id
      title: title
      updated: { type: timestamp }
    incremental: { cursorField: updated, startDate: '2026-01-01', step: 7d }
  # The same export between the connection's dates: its since, else a fixed start; its until (unix).
  range:
    request:
      path: /events/{window.start|yyyy-MM-dd}
      query: { start: '{window.start|unix}', end: '{window.end|unix}' }
      headers: { x-requested-on: '{now|date}' }
    recordsPath: events
    primaryKey: id
    fields:
      id: id
      updated: { type: timestamp }
    incremental:
      cursorField: updated
      startDate: ['{config.since}', '2026-01-15']
      endDate: ['{config.until|iso}', '{now}']
      step: 7d
`,
  // Computed fields and the parent's fields in child records; records under data.*.attributes.
  projects: `
id: projects
baseUrl: ${s.url}
resources:
  projects:
    request: { path: /projects }
    recordsPath: projects
    primaryKey: id
    fields:
      id: id
      name: name
      owner: { value: '{record.owner.first} {record.owner.last|upper}' }
      source: { const: construct-sim }
  tasks:
    parent: { resource: projects, params: { project: id, project_name: name } }
    request: { path: '/projects/{parent.project}/tasks' }
    recordsPath: tasks
    primaryKey: id
    pagination: { type: page, pageParam: page, sizeParam: per_page, pageSize: 20 }
    fields:
      id: id
      title: title
      project_id: { value: '{parent.project}' }
      project_name: { value: '{parent.project_name}' }
      label: { value: '{parent.project}/{record.title|lower}' }
      tags: { from: 'tags.*.name', type: json }
  recent-tasks:
    parent: { resource: projects, params: { project: id } }
    request: { path: '/projects/{parent.project}/tasks', query: { updated_since: '{since}' } }
    recordsPath: tasks
    primaryKey: id
    pagination: { type: page, pageParam: page, sizeParam: per_page, pageSize: 20 }
    fields:
      id: id
      updated: { type: timestamp }
    incremental: { cursorField: updated }
  jsonapi:
    request: { path: /jsonapi/items }
    recordsPath: data.*.attributes
    primaryKey: uid
    pagination: { type: page, pageParam: page, sizeParam: per_page, pageSize: 100 }
    fields:
      uid: uid
      title: title
      labels: { value: '{record.labels.*.name|join:+}' }
`,
  // Client-side incremental: the provider has no filter; newest first, or in no useful order.
  feeds: `
id: feeds
baseUrl: ${s.url}
resources:
  newest-first:
    request: { path: /feed }
    primaryKey: id
    pagination: { type: page, pageParam: page, sizeParam: per_page, pageSize: 25 }
    incremental: { cursorField: updated, clientSide: true, order: descending }
  by-id:
    request: { path: /all }
    primaryKey: id
    pagination: { type: page, pageParam: page, sizeParam: per_page, pageSize: 50 }
    incremental: { cursorField: updated, clientSide: true }
`,
  // No natural key: log entries, kept once each by a hash of their content, never marked deleted.
  logs: `
id: logs
baseUrl: ${s.url}
resources:
  entries:
    request: { path: /logs }
    recordsPath: entries
    appendOnly: true
    fields:
      at: { type: timestamp }
      level: level
      message: message
`,
  // Session-token auth: a login request yields the token for a header, renewed after a 401.
  sessions: `
id: sessions
baseUrl: ${s.url}
secrets: { username: login name, password: password }
auth:
  type: session-token
  login:
    path: /session/login
    body: { username: '{secrets.username}', password: '{secrets.password}' }
  tokenPath: session.token
  expiresInPath: session.expires_in
  header: x-session-token
  value: '{token}'
resources:
  items:
    request: { path: /session/items }
    primaryKey: id
    pagination: { type: page, pageParam: page, sizeParam: per_page, pageSize: 50 }
  same-items:
    request: { path: /session/items }
    primaryKey: id
    pagination: { type: page, pageParam: page, sizeParam: per_page, pageSize: 50 }
`,
  // Deletion from content: deleted tickets stay in the listing with status "deleted".
  tickets: `
id: tickets
baseUrl: ${s.url}
resources:
  tickets:
    request: { path: /tickets }
    primaryKey: id
    pagination: { type: page, pageParam: page, sizeParam: per_page, pageSize: 100 }
    deletedWhen: [{ path: status, equals: deleted }]
`,
});
