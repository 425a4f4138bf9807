// Contacts (CardDAV): the user's address books and contacts, read as vCard 3.0 or 4.0 and written as
// 3.0 (ADR 0012). This folder owns the CardDAV client, the vCard logic and the contacts tools.
import { defineGroup } from "../../mcp/index.ts";
import { hasAddressBookHome } from "./client.ts";
import { contactsFind, contactsGet, contactsListBooks } from "./read.ts";
import { contactsDelete, contactsEditBook, contactsSave } from "./write.ts";

/** The contacts tools: there when the user has a CardDAV address book home. */
export const contactsGroup = defineGroup({
  id: "contacts",
  title: "Contacts",
  description: "Find, read, create, change and delete the user's contacts and address books (CardDAV).",
  available: (nextcloud, signal) => hasAddressBookHome(nextcloud, signal),
  tools: [contactsListBooks, contactsFind, contactsGet, contactsSave, contactsDelete, contactsEditBook],
});
