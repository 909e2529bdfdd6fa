import type { FlagContext } from './flags.js';

/**
 * The sticky key: header X-User-Id, else body userId, else sessionId; none
 * means a random assignment per request (a remote address behind a load
 * balancer is the balancer's, so it is never used).
 */
export function stickyContext(
  headerUserId: string | undefined,
  body: { userId?: string | undefined; sessionId?: string | undefined },
): FlagContext {
  const userId = headerUserId?.trim() || body.userId;
  const context: FlagContext = {};
  if (userId) context.userId = userId;
  else if (body.sessionId) context.sessionId = body.sessionId;
  return context;
}
