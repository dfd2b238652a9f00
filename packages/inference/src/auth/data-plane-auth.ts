/**
 * Who is calling a data plane (the model server, the LLM server), from the request's `Authorization`
 * header: one of the server's own API keys (`--api-keys FILE`), or a control-plane user or token
 * (`--auth control-plane`). With both, either suffices: a bearer token that matches no own key is asked
 * of the control plane, unless it has the own keys' `sk-slw-` prefix (a wrong own key is refused here). Servers map the `DataPlaneAuthError`s thrown here to their protocol's format.
 */
import { API_KEY_PREFIX, type ApiKeyEntry, type ApiKeyring } from "./api-keys.js";
import { DataPlaneAuthError } from "./auth-errors.js";
import type { ControlPlaneAuth, ControlPlaneUser, PermissionName } from "./control-plane-auth.js";

export type DataPlaneCaller =
  | { readonly kind: "key"; readonly name: string; readonly admin: boolean; readonly key: ApiKeyEntry }
  | {
      readonly kind: "user";
      /** `user:USERNAME`, the label under which the caller's usage is counted. */
      readonly name: string;
      readonly admin: boolean;
      readonly user: ControlPlaneUser;
      readonly permission: PermissionName | undefined;
    };

/** The model a request is for: its served name, and the registered model whose permission applies. */
export interface AuthResource {
  model: string;
  registeredModel: string;
}

export interface DataPlaneAuthOptions {
  keys?: ApiKeyring;
  controlPlane?: ControlPlaneAuth;
}

export class DataPlaneAuth {
  readonly keys: ApiKeyring | undefined;
  readonly controlPlane: ControlPlaneAuth | undefined;

  constructor(options: DataPlaneAuthOptions) {
    if (options.keys === undefined && options.controlPlane === undefined) {
      throw new Error("DataPlaneAuth: give API keys, a control plane, or both");
    }
    this.keys = options.keys;
    this.controlPlane = options.controlPlane;
  }

  /** The schemes a client may use (for OpenAPI documents and messages). */
  get schemes(): ("bearer" | "basic")[] {
    return this.controlPlane ? ["bearer", "basic"] : ["bearer"];
  }

  /**
   * The caller behind `authorization`. With `resource`, the caller must be allowed to use that model: an own
   * key restricted to other models, or a user below READ on the registered model, is `forbidden`.
   */
  async authenticate(authorization: string | undefined, resource?: AuthResource): Promise<DataPlaneCaller> {
    const header = authorization?.trim() ?? "";
    if (header === "") {
      throw new DataPlaneAuthError(
        "unauthenticated",
        this.controlPlane
          ? "Authentication required: send 'Authorization: Bearer <API key or token>' or HTTP basic credentials"
          : "Authentication required: send 'Authorization: Bearer <API key>'",
      );
    }
    const bearer = /^bearer\s+(\S+)$/i.exec(header)?.[1];
    if (bearer !== undefined && this.keys !== undefined) {
      const key = this.keys.match(bearer);
      if (key !== undefined) {
        if (resource !== undefined && !keyAllowsModel(key, resource.model)) {
          throw new DataPlaneAuthError("forbidden", `API key '${key.name}' may not use model '${resource.model}'`);
        }
        return { kind: "key", name: key.name, admin: key.admin === true, key };
      }
    }
    // a key of ours that matches none is wrong: it is not sent on to the control plane
    if (this.controlPlane === undefined || (this.keys !== undefined && bearer?.startsWith(API_KEY_PREFIX) === true)) {
      throw new DataPlaneAuthError(
        "unauthenticated",
        bearer === undefined ? "Send the API key as 'Authorization: Bearer <key>'" : "Invalid API key",
      );
    }
    const identity = await this.controlPlane.check(header, resource?.registeredModel);
    return {
      kind: "user",
      name: `user:${identity.user.username}`,
      admin: identity.user.isAdmin,
      user: identity.user,
      permission: identity.permission,
    };
  }
}

/** Whether an own key may use a model (keys without `models` may use all). */
export function keyAllowsModel(key: ApiKeyEntry, model: string): boolean {
  return key.models === undefined || key.models.includes(model);
}

/** Whether a caller may use a model, where model access is not a control-plane permission (LLM names). */
export function callerAllowsModel(caller: DataPlaneCaller, model: string): boolean {
  return caller.kind !== "key" || keyAllowsModel(caller.key, model);
}
