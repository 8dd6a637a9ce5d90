// A Web Storage stand-in for node's test runner (the browser tests use the
// real localStorage).
export class MemStorage {
  constructor() {
    this.m = new Map()
  }
  get length() {
    return this.m.size
  }
  key(i) {
    return [...this.m.keys()][i] ?? null
  }
  getItem(k) {
    return this.m.has(k) ? this.m.get(k) : null
  }
  setItem(k, v) {
    this.m.set(k, String(v))
  }
  removeItem(k) {
    this.m.delete(k)
  }
}
