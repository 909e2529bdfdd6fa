import { status as GrpcStatus } from '@grpc/grpc-js';
import type { ErrorStatus } from '../errors.js';

/**
 * The gRPC status for each HTTP status an AppError carries: the caller's mistakes are
 * INVALID_ARGUMENT, what is not there NOT_FOUND, what cannot serve now UNAVAILABLE
 * (a client may retry elsewhere), the server's faults INTERNAL.
 */
const BY_HTTP_STATUS: Readonly<Record<ErrorStatus, GrpcStatus>> = {
  400: GrpcStatus.INVALID_ARGUMENT,
  401: GrpcStatus.UNAUTHENTICATED,
  404: GrpcStatus.NOT_FOUND,
  409: GrpcStatus.FAILED_PRECONDITION,
  413: GrpcStatus.RESOURCE_EXHAUSTED,
  415: GrpcStatus.INVALID_ARGUMENT,
  500: GrpcStatus.INTERNAL,
  503: GrpcStatus.UNAVAILABLE,
};

export const grpcStatusOf = (status: ErrorStatus): GrpcStatus => BY_HTTP_STATUS[status];
