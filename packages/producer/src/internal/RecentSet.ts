/** A set that forgets its oldest members beyond `capacity`. */
export class RecentSet {
  readonly #members = new Set<string>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  add(member: string): void {
    this.#members.add(member);
    if (this.#members.size > this.#capacity) {
      const oldest = this.#members.values().next().value;
      if (oldest !== undefined) this.#members.delete(oldest);
    }
  }

  has(member: string): boolean {
    return this.#members.has(member);
  }
}
