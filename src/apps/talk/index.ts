// Talk (spreed): conversations, participants, chat messages with replies and rendered rich-object
// placeholders, the read marker and reactions, over Talk's OCS API (never long-polled).
import { defineGroup } from "../../mcp/index.ts";
import { talkGetConversation, talkListConversations, talkListReactions, talkReadMessages } from "./read.ts";
import {
  talkAddParticipants,
  talkCreateConversation,
  talkMarkRead,
  talkReact,
  talkSendMessage,
  talkUnreact,
} from "./write.ts";

/** The Talk tools: there when the user's capabilities carry `spreed` with conversation API v4. */
export const talkGroup = defineGroup({
  id: "talk",
  title: "Talk",
  description: "Read and write the user's Nextcloud Talk chats: conversations, messages, replies, reactions.",
  available: async (nextcloud) => {
    const spreed = (await nextcloud.capabilities()).raw.spreed as { features?: unknown } | undefined;
    return Array.isArray(spreed?.features) && spreed.features.includes("conversation-v4");
  },
  tools: [
    talkListConversations,
    talkGetConversation,
    talkReadMessages,
    talkListReactions,
    talkSendMessage,
    talkMarkRead,
    talkCreateConversation,
    talkAddParticipants,
    talkReact,
    talkUnreact,
  ],
});
