// The slice of IndexedDB that the crypto store dump needs, typed here because the project does
// not compile against the DOM library. fake-indexeddb provides the implementation (see
// idb-dump.ts); the OlmMachine finds it as the global `indexedDB`.
import "fake-indexeddb/auto";

export interface IdbRequest<T> {
  result: T;
  error: unknown;
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
}

export interface IdbOpenRequest extends IdbRequest<IdbDatabase> {
  onupgradeneeded: (() => void) | null;
  onblocked: (() => void) | null;
}

export interface IdbIndex {
  name: string;
  keyPath: string | string[];
  unique: boolean;
  multiEntry: boolean;
}

export interface IdbObjectStore {
  name: string;
  keyPath: string | string[] | null;
  autoIncrement: boolean;
  indexNames: ArrayLike<string>;
  index(name: string): IdbIndex;
  createIndex(name: string, keyPath: string | string[], opts: { unique: boolean; multiEntry: boolean }): IdbIndex;
  getAll(): IdbRequest<unknown[]>;
  getAllKeys(): IdbRequest<unknown[]>;
  put(value: unknown, key?: unknown): IdbRequest<unknown>;
}

export interface IdbTransaction {
  objectStore(name: string): IdbObjectStore;
  oncomplete: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  error: unknown;
}

export interface IdbDatabase {
  name: string;
  version: number;
  objectStoreNames: ArrayLike<string>;
  transaction(stores: string[], mode: "readonly" | "readwrite"): IdbTransaction;
  createObjectStore(name: string, opts: { keyPath: string | string[] | null; autoIncrement: boolean }): IdbObjectStore;
  close(): void;
}

export interface IdbFactory {
  open(name: string, version?: number): IdbOpenRequest;
  deleteDatabase(name: string): IdbRequest<unknown>;
  databases(): Promise<{ name?: string; version?: number }[]>;
}

export function factory(): IdbFactory {
  return (globalThis as unknown as { indexedDB: IdbFactory }).indexedDB;
}

export function done<T>(req: IdbRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => { resolve(req.result); };
    req.onerror = () => { reject(toError(req.error)); };
  });
}

export function committed(tx: IdbTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => { resolve(); };
    tx.onerror = () => { reject(toError(tx.error)); };
    tx.onabort = () => { reject(toError(tx.error ?? new Error("IndexedDB transaction aborted"))); };
  });
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
