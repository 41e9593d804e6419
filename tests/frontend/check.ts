// What a front end relies on, checked by tsc --strict over the generated types: every scalar is
// a concrete type (not `any`, not `unknown`), codes and kinds are closed unions to switch over.
import type {
  ComplaintViewerCan,
  ErrorCode,
  NotificationKind,
  Scalars,
  UserError,
} from "./generated/graphql";

type NotAny<T> = 0 extends 1 & T ? never : T;
type NotUnknown<T> = unknown extends T ? never : T;
type Concrete<T> = NotUnknown<NotAny<T>>;

export const moment: Concrete<Scalars["DateTime"]["output"]> = "2026-12-01T09:00:00+08:00";
export const day: Concrete<Scalars["Date"]["output"]> = "2026-12-01";
export const sent: Concrete<Scalars["DateTime"]["input"]> = "2026-12-01T09:00:00+08:00";
export const photo: Concrete<Scalars["Upload"]["input"]> = new Blob([]);
export const id: Concrete<Scalars["ID"]["output"]> = "Q29tcGxhaW50OjE=";

export function messageFor(error: Concrete<Pick<UserError, "code" | "message">>): string {
  const code: Concrete<ErrorCode> = error.code;
  switch (code) {
    case "UNAUTHENTICATED":
      return "请重新登录";
    case "RATE_LIMITED":
      return "请稍后再试";
    default:
      return error.message;
  }
}

// A code that is not in the contract does not compile.
// @ts-expect-error
export const unknownCode: ErrorCode = "NO_SUCH_CODE";

export const kind: Concrete<NotificationKind> = "COMPLAINT_NEW";

export function buttons(can: Concrete<Omit<ComplaintViewerCan, "__typename">>): string[] {
  return Object.entries(can)
    .filter(([, allowed]) => allowed === true)
    .map(([step]) => step);
}
