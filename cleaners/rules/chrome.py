"""Site chrome as data: every kind of page furniture the strip stage removes.

Each `ChromeRule` names a KIND of furniture, never one site's strings: a WeChat
contact is any of 微信/VX/薇信/威信 followed by an id, a page marker is
"第 N 页 共 M 页" in whatever spacing. Adding a rule is adding one entry here.

Scopes (what a match removes):
  line    the whole line (only lines up to `max_len` characters)
  span    the matched text only; the line is joined again around it
  tail    from the match to the end of the line (download banners glued to text)
  clause  the whole line when it is short, else only the sentence holding the match
  block   the matching line, then the list lines that follow it (outside the body)
  run     `min_run` or more consecutive lines that each match (related-article lists)

`where` says how far a rule is trusted:
  anywhere  strong evidence: applied inside the body span as well
  outside   weak evidence: applied only in the header before the body and the footer after it
  after     only after the body (lists of titles trailing a document)

Kinds are the issue's list plus `seo_injection` (a gambling brand spliced into
sentences or put in place of an organisation's name: a brand stem together
with a gambling word, never either alone). Rule names in the audit are
"<kind>:<name>".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Scope = Literal["line", "span", "tail", "clause", "block", "run"]
Where = Literal["anywhere", "outside", "after"]

KINDS = ("nav", "breadcrumb", "upload_meta", "page_marker", "banner", "contact", "disclaimer",
         "related_list", "comment", "footer", "lead_in", "watermark_inline", "seo_injection", "junk")


@dataclass(frozen=True)
class ChromeRule:
    kind: str
    name: str
    pattern: str
    scope: Scope = "line"
    where: Where = "anywhere"
    max_len: int = 80  # line/clause/block scopes: longest line the rule may take whole
    min_len: int = 0  # span scope: shortest line the rule looks at
    min_run: int = 3  # run scope: fewest consecutive lines that make a list
    follow: str = ""  # block scope: pattern of the lines the block goes on over
    follow_inside: bool = False  # block scope: may the block go on inside the body span too
    needs: tuple[str, ...] = ()  # cheap pre-check: the rule is tried only on lines holding one of these

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}"


C = r"\s{0,3}[:：]\s{0,3}"  # a label colon, ASCII or full-width, with optional spaces
CJK = r"\u4e00-\u9fff"
DATE = r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"
CN_DATE = r"\d{4}年\d{1,2}月\d{1,2}日"
CLOCK = r"\d{1,2}:\d{2}(?::\d{2})?"
MOBILE = r"(?<!\d)1[3-9]\d{9}(?!\d)"
LANDLINE = r"(?<!\d)(?:0\d{2,3}[-—－]?\d{7,8}|400[-—－]?\d{3}[-—－]?\d{4})(?!\d)"
IM_ID = r"[A-Za-z][A-Za-z0-9_-]{4,19}|\d{5,12}"
WECHAT_WORDS = ("微信", "VX", "Vx", "vx", "wx", "WX", "weixin", "WeChat", "wechat", "V信", "v信", "薇信", "威信")
WECHAT = r"(?:微信号?|VX|Vx|vx|wx|WX|weixin|WeChat|wechat|[Vv]信|薇信|威信)"
EMAIL = r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,4}\.[A-Za-z]{2,12}"
DOMAIN = r"(?:https?://)?(?:www\.)?[a-z0-9][a-z0-9-]{1,40}(?:\.[a-z0-9-]{1,20}){0,4}\.(?:com|cn|net|org|cc|top|vip|info|xyz)(?:\.cn)?(?:/[\w./?=&%-]{0,120})?"
# Labels of document-site metadata fields ("上传人:", "页数:", "来源:" ...).
META_LABEL = (r"(?:上传人|上传者|贡献者|分享者|发布者|发布人|文档编号|上传时间|发布时间|更新时间|发布日期|"
              r"文档格式|格式|页数|大小|文件大小|下载次数|浏览次数|浏览量|阅读量|阅读数|点击量|点击数|点击|"
              r"浏览|阅读|下载|收藏|评论|来源|作者|编辑|责任编辑|时间|字数|日期|所属分类|分类|标签|价格|"
              r"积分|文档星级|上传用户)")
URL_HINTS = ("www.", "http", ".com", ".cn", ".net", ".org", ".cc", ".top", ".vip", ".info", ".xyz")
NUMBERED = r"(?:\d{1,2}[、.．)）]|[(（]\d{1,2}[)）])"
# Markdown of a saved page: an image, a link (its text may hold an image), a bare URL. The share of a
# line these cover is its link density (see `LINK_SHARE_OUTSIDE`).
MD_IMAGE = r"!\[[^\[\]\n]{0,200}\]\((?:[^()\s]|\([^()\s]{0,40}\)){0,600}\)"
LINK_SYNTAX = (rf"!?\[(?:[^\[\]\n]|{MD_IMAGE}){{0,200}}\]\((?:[^()\s]|\([^()\s]{{0,40}}\)){{0,600}}\)"
               r"|https?://[A-Za-z0-9._~:/?#@!$&'*+,;=%-]{1,600}|javascript:void\(0\);?")
# A line whose non-space characters are at least this share of link syntax is a list of links:
# furniture outside the body (inside it a reference list may be the document's own).
LINK_SHARE_OUTSIDE = 0.5
# ... and has fewer Chinese characters than this outside its links (else it is a sentence citing a link).
LINK_LIST_MAX_TEXT = 20
# Counters of downloads in a file listing: "0.14 MB | 4次下载 | 免费", "11.83 MB | 3次下载 | 2 积分".
FILE_ENTRY = (r"\d{1,6}(?:\.\d{1,3})?\s{0,2}(?:[KMG]B|[KMG])\s{0,3}[|｜]\s{0,3}\d{1,9}\s{0,2}次下载"
              r"\s{0,3}[|｜]\s{0,3}(?:免费|\d{1,6}\s{0,2}(?:积分|下载券|金币|元))")
# Upload metadata fields "label:value |" run into the text of a search snippet.
INLINE_FIELD = (r"(?:文档格式|文件格式|格式|页数|文档页数|浏览次数|下载次数|阅读次数|浏览量|阅读量|大小|文件大小|上传时间|"
                r"上传人|上传者|下载积分|所需积分|文档星级)\s{0,2}[:：]\s{0,2}[^\s|｜:：]{1,20}")
# A pinyin syllable (initial + final): glosses spliced into words "烟(yan)台市(shi)" to fool dedup.
PINYIN = (r"(?=[a-zü]{2})(?:[zcs]h|[bpmfdtnlgkhjqxrzcsyw])?"
          r"(?:iang|iong|uang|ueng|ang|eng|ing|ong|ian|iao|uai|uan|üan|ai|ei|ao|ou|an|en|in|un|ia|ie|iu|ua|uo|ui|ue|üe|ve|er|"
          r"a|o|e|i|u|v|ü)[1-5]?")
# Gambling SEO: a brand (stem + gambling word, or a brand class word) injected into sentences or
# put in place of an organisation's name. A stem alone (金沙江, 银河, 澳门) is ordinary text; so is a
# gambling word alone (福利彩票, 真人秀): only the combination, or a word no document uses for
# itself (贵宾会, 娱乐城, casino), makes the brand.
GAMBLING_STEM = (r"(?:金沙|新葡京|葡京|威尼斯人|永利|银河|太阳城|美高梅|新濠|巴黎人|亚博|博天堂|凯发|利来|尊龙|天博|"
                 r"开云|万博|宝马会|必赢|彩神|优德|乐虎|百家乐)")
GAMBLING_WORD = (r"(?:娱乐城|娱乐场|娱乐平台|娱乐官网|娱乐网址|娱乐|线路检测|线路|网站|官网|网址|平台|app|APP|开户|注册|"
                 r"贵宾会|赌场|棋牌|彩票|真人|体育投注|投注|网投)")
SEO_BRAND = (rf"(?:[A-Za-z]{{1,5}}\d{{2,6}}(?:\.(?:com|cc|net|vip))?)?(?:(?:澳门|香港)?{GAMBLING_STEM}{GAMBLING_WORD}"
             r"|[\u4e00-\u9fff]{2}贵宾会|[\u4e00-\u9fff]{2,4}娱乐城|(?i:casino|bet365|\d{2,5}bet\b|bet\d{2,5}))")
# The calls to action a gambling SEO title puts after its brand ("官网_最新网址登录"): cut with the brand.
SEO_CALL = (r"(?:[-_|｜\s]{0,3}(?:官方网站|官网|最新网址|网址|登录|登陆|注册|入口|开户|手机版|app下载|APP下载|下载|"
            r"欢迎您|首页|直营|信誉|平台)){1,6}")
# Content platforms whose name a search result or a copied title carries behind a dash ("… - 知乎").
PLATFORMS = ("百家号", "知乎专栏", "知乎", "搜狐号", "搜狐", "网易号", "网易", "新浪博客", "新浪网", "新浪", "腾讯新闻", "腾讯网",
             "今日头条", "头条号", "简书", "CSDN博客", "CSDN", "博客园", "百度知道", "百度百科", "百度经验", "百度文库", "豆瓣",
             "微博", "哔哩哔哩", "澎湃新闻", "凤凰网", "个人图书馆", "360doc", "道客巴巴", "豆丁网", "原创力文档", "人人文库",
             "文档之家", "第一范文网", "餐饮杰")
# Words of a page's action bars and footer links; a line made only of them is furniture.
ACTION_WORD = (r"(?:返回列表|返回首页|返回|下载|举报(?:/反馈)?|反馈|分享本页|分享|收藏本页|收藏|打印本页|打印|关闭窗口|关闭|评论|全屏|"
               r"回复|引用|点赞|转发|上一篇|下一篇|上一页|下一页|网站地图|联系我们|关于我们|法律声明|隐私政策|用户协议|"
               r"免责声明|意见反馈|帮助中心|加入收藏|设为首页|返回顶部)")
# A line of a list of links: short, not a sentence, not an outline heading of the document.
LIST_ITEM = r"^(?![一二三四五六七八九十]{1,4}、)[^。！？!?；;]{2,80}$"
# Lines that are the document's own structure, never chrome on frequency or position alone:
# salutations, outline headings, sign-off dates.
BODY_STRUCTURE = (r"^(?:同志们|各位|尊敬的|女士们|先生们|亲爱的|大家好|谢谢)"
                  r"|^(?:[一二三四五六七八九十]{1,4}、|[(（][一二三四五六七八九十\d]{1,4}[)）]|第[一二三四五六七八九十\d]{1,4}[章节条部分]|"
                  r"\d{1,2}[、.．]\D|[一二三四五六七八九十]是|首先|其次|最后)"
                  r"|^\d{4}年\d{1,2}月(?:\d{1,2}日)?$")

RULES: tuple[ChromeRule, ...] = (
    # --- breadcrumbs -------------------------------------------------------------------------
    ChromeRule("breadcrumb", "location", r"^(?:当前位置|您的位置|你的位置|您现在的位置|现在位置|所在位置|位置)[:：]", max_len=160),
    ChromeRule("breadcrumb", "home_path", r"^(?:首页|主页|网站首页)\s{0,3}(?:[>›»/→]|&gt;)", max_len=160),
    ChromeRule("breadcrumb", "path", r"^[^，。！？,>›»→]{1,16}(?:[>›»→][^，。！？,>›»→]{1,24}){2,12}$"
               r"|^[^，。！？,/]{1,16}(?: / [^，。！？,/]{1,30}){2,12}$",
               where="outside", max_len=120),
    ChromeRule("breadcrumb", "home_glued", r"^(?:首页|主页|网站首页)(?=[\u4e00-\u9fffA-Za-z])[^，。；,;]{2,60}$",
               where="outside"),
    # --- navigation ---------------------------------------------------------------------------
    ChromeRule("nav", "desktop_shortcut",
               r"(?:添加|加入).{0,12}到(?:电脑)?桌面|桌面快捷(?:访问|方式)|^电脑桌面$|设为首页|加入收藏|收藏本站"),
    ChromeRule("nav", "welcome", r"^欢迎(?:来到|访问|光临|您来到|进入).{0,30}(?:网|站|平台|文库|中心)", max_len=160),
    ChromeRule("nav", "back_to_top", r"^(?:回到顶部|返回顶部|回顶部|TOP|Top|top|↑)\s{0,2}[↑▲∧^]?$"),
    ChromeRule("nav", "confirm_dialog", r"^(?:确认删除|确定删除|确定要删除|是否删除)\S{0,8}[?？]?$"),
    ChromeRule("nav", "account",
               r"^(?:[•·]\s{0,3})?(?:登录|注册|免费注册|登录\s{0,3}[|/]\s{0,3}注册|退出|我的下载|我的收藏|我的文档|我的主页|"
               r"会员中心|个人中心|用户中心|搜索资料|搜索|站内搜索|我的图书馆|留言交流|联系客服|在线客服|"
               r"意见反馈|帮助中心|网站地图|关于我们|联系我们|我要投稿|投稿|手机版|客户端|APP下载|下载APP|"
               r"返回首页|网站首页|首页)$"),
    ChromeRule("nav", "toolbar",
               r"^(?:[【\[(（]?(?:字体|字号)?[:：]?(?:大|中|小|打印|关闭|关闭窗口|收藏|分享到?|全屏|转藏|举报|"
               r"纠错|返回|默认|加大|减小|放大|缩小|复制链接|更多)[】\])）]?[\s|｜]?)+$"),
    ChromeRule("nav", "prev_next", r"^(?:上一篇|下一篇|上一条|下一条|上一章|下一章|前一篇|后一篇)[:：]", max_len=160),
    ChromeRule("nav", "pager", r"^(?:上一页|下一页|首页|尾页|末页|[\d<>«»‹›.…\s\[\]])+$",
               where="outside", max_len=40),
    ChromeRule("nav", "doc_actions",
               r"^(?:返回|下载|相关|举报|分享|收藏|打印|评论|阅读|全屏|回复|引用|使用道具|支持|反对|点赞|转发)"
               r"(?:\s{1,3}(?:返回|下载|相关|举报|分享|收藏|打印|评论|阅读|全屏|回复|引用|使用道具|支持|反对|点赞|转发)){1,}$"),
    ChromeRule("nav", "action_words", rf"^(?:{ACTION_WORD})(?:\s{{0,3}}[|｜/·•、]?\s{{0,3}}(?:{ACTION_WORD})){{0,12}}$", max_len=80),
    ChromeRule("nav", "platform_suffix", rf"(?<=\S)\s{{1,3}}[-–—_|｜]\s{{1,3}}(?:{'|'.join(PLATFORMS)})\s{{0,3}}$", scope="span",
               needs=PLATFORMS),
    ChromeRule("nav", "font_size",
               r"^(?:(?:字号|字体)[:：]\s{0,3})?A\s{0,2}[-+]\s{0,3}[|｜]?\s{0,3}A\s{0,2}[-+]$|^(?:字号|字体)[:：]\s{0,3}T\s{0,2}[|｜]\s{0,2}T$"),
    ChromeRule("nav", "follow_prompt",
               r"点击(?:上方|下方|左上角|右上角)?(?:蓝字|关注|名片)|(?:关注|订阅)我们$|^(?:写留言|留言|在看|点赞|赞赏|喜欢此内容的人还喜欢)$|"
               r"^(?:点击)?阅读原文\s{0,3}[>》»]{0,2}$|点个?(?:在看|赞)|(?:分享|点赞|在看|转发)(?:[、和]\s{0,2}(?:分享|点赞|在看|转发)){0,3}(?:支持|鼓励)一下|"
               r"(?:阅读|浏览)\s{0,3}\d{1,9}\s{0,3}(?:在看|赞|点赞)\s{0,3}\d{1,9}", max_len=40),
    ChromeRule("nav", "login_prompt", r"(?:请\s{0,3})?登录\s{0,3}后(?:使用|才能|可以|发表|查看|下载|评论)|没有帐号|没有账号|立即注册|"
               r"免费注册|注册/登录|登录/注册", max_len=60),
    ChromeRule("nav", "share", r"^分享到?[:：]?(?:微信|微博|QQ|朋友圈|空间|豆瓣|[\s|｜])*$|分享到[:：]?$", max_len=40),
    ChromeRule("nav", "menu_line",
               r"^(?!#)(?=.{0,100}[\u4e00-\u9fff])(?:[^\s|｜/·，。！？、；：,.!?;:]{1,12}[\s|｜/·]{1,3}){3,20}[^\s|｜/·，。！？、；：,.!?;:]{1,12}$",
               where="outside", max_len=100),
    # --- upload metadata ---------------------------------------------------------------------
    ChromeRule("upload_meta", "fields", rf"^(?!.{{0,240}}[。！？]$).{{0,240}}?{META_LABEL}{C}.{{0,240}}?{META_LABEL}{C}", max_len=240),
    ChromeRule("upload_meta", "single_field",
               rf"^(?:上传人|上传者|上传用户|文档编号|上传时间|文档格式|下载积分|浏览次数|下载次数|点击量|点击数|阅读量|"
               rf"阅读次数|责任编辑|编辑|发布者|所属分类|相关标签|标签|Tags|TAGS|文档星级|文档价格|文档页数|文档大小|文件格式){C}", max_len=120),
    ChromeRule("upload_meta", "keywords_field", rf"^(?:本文)?(?:关键词|关键字|原标题|文档分类|资料分类|所需积分|上传日期|文件类型){C}",
               where="outside", max_len=120),
    ChromeRule("upload_meta", "image_credit", rf"^[(（]?(?:图片来源|图源|题图来源|封面图?来源|图片提供|图片作者){C}[^，。！？]{{1,30}}[)）]?$"),
    ChromeRule("upload_meta", "shared_by_member",
               r"由会员分享|可在线阅读|请在.{1,30}上搜索|文档贡献者|(?:分享|上传)文档(?:赚钱|赚取收益|得收益)|上传于\s{0,3}\d", max_len=400),
    ChromeRule("upload_meta", "uploader_card",
               r"^(?:实名认证|认证用户|内容提供者|文档贡献者|上传者|粉丝|\+?关注|已关注|私信|TA的文档|他的文档|"
               r"进入店铺|店铺|个人认证|机构认证|官方认证|优质创作者)$"),
    ChromeRule("upload_meta", "section_label",
               r"^(?:资源描述|文档介绍|资料介绍|内容提示|文档列表|内容简介|文档简介|文本预览|全文预览|预览|文档信息|"
               r"文档描述|资源简介|碎片内容|免费预览|下载提示|温馨提示|下载说明|特别提示|相关链接|友情链接)[:：]?$"),
    ChromeRule("upload_meta", "snippet_label", rf"^(?:下载积分{C}\d{{1,9}}\s{{0,3}})?(?:内容提示|文档介绍|资料介绍){C}", scope="span",
               needs=("内容提示", "文档介绍", "资料介绍")),
    ChromeRule("upload_meta", "counters",
               r"已关闭评论|(?<![\d.])\d{1,9}\s{0,3}(?:人浏览|次浏览|浏览|次阅读|人阅读|字阅读|人已下载|次下载|人下载|人评论|条评论|"
               r"人收藏|次收藏|人点赞|个赞)(?:\s|$|[|｜)）])|(?:^|\s)阅\s{0,3}\d{1,9}\s{0,3}$|"
               r"(?:^|\s)(?:阅读|浏览|播放)\s{0,3}\d{1,5}(?:\.\d{1,2})?\s{0,2}[万wW]\+?\s{0,3}$|(?:浏览|阅读|下载|点击)[(（]\d{1,9}[)）]",
               max_len=80),
    ChromeRule("upload_meta", "visitors",
               r"已有\s{0,3}\d{1,12}\s{0,3}(?:人|位|次)(?:来访|访问|浏览|阅读|下载|关注|参与|围观)过?"
               r"|(?<![\d.])\d{1,7}\s{0,2}字\s{0,3}阅读\s{0,3}(?:约\s{0,2})?\d{1,3}\s{0,2}分(?:钟|\s{0,2}\d{1,2}\s{0,2}秒)?"
               r"|阅读(?:时间|时长)\s{0,3}[:：]?\s{0,3}(?:约\s{0,2})?\d{1,3}\s{0,2}分钟", max_len=80),
    ChromeRule("upload_meta", "blog_stats",
               r"^(?:博文|博客|文章|日志|图片数|照片|访问量|总访问量?|积分|排名|粉丝|原创|转载|等级|好友|相册|访客)\s{0,3}[:：]\s{0,3}\d{1,12}$",
               where="outside"),
    ChromeRule("upload_meta", "inline_fields", rf"(?:{INLINE_FIELD}\s{{0,3}}[|｜]\s{{0,3}}){{2,8}}(?:{INLINE_FIELD})?", scope="span",
               min_len=100,  # glued into a snippet; a line of fields alone is the line rules' to take whole
               needs=("格式", "页数", "浏览次数", "下载次数", "阅读次数", "浏览量", "阅读量", "大小", "上传", "积分", "星级")),
    ChromeRule("upload_meta", "counted_links",
               r"[(（]\d{1,9}[)）]\s{0,2}(?:次阅读|次浏览|个评论|条评论|次下载)(?:\s{0,3}[|｜]\s{0,3}[(（]\d{1,9}[)）]\s{0,2}"
               r"(?:次阅读|次浏览|个评论|条评论|次下载)){0,4}", scope="span",
               needs=("次阅读", "次浏览", "个评论", "条评论", "次下载")),
    ChromeRule("upload_meta", "attachment",
               r"\.(?:png|jpe?g|gif|bmp|webp|docx?|pdf|zip|rar)\s{0,3}[(（]\s{0,3}\d{1,9}(?:\.\d{1,9})?\s{0,3}[KMG]?B\s{0,3}[,，]\s{0,3}下载次数[:：]\s{0,3}\d{1,9}\s{0,3}[)）]",
               max_len=160),
    ChromeRule("upload_meta", "article_byline",
               rf"^(?:原创|转载|首发)\s.{{0,40}}{DATE}|{DATE}\s{{1,3}}{CLOCK}\s{{0,3}}发表于[{CJK}]{{2,4}}$", max_len=100),
    ChromeRule("upload_meta", "dated_byline", rf"^{DATE}(?:\s{{1,3}}{CLOCK})?\s{{1,3}}\S{{1,20}}\s{{1,3}}(?:阅|浏览|阅读)\s{{0,3}}\d{{1,9}}", max_len=80),
    # --- page and preview markers ------------------------------------------------------------
    ChromeRule("page_marker", "file_page", r"\.(?:docx?|pdf|pptx?|xlsx?|wps|txt)_第\s{0,3}\d{1,9}\s{0,3}页$", max_len=200),
    ChromeRule("page_marker", "page_of", r"\s{0,3}第\s{0,3}\d{1,9}\s{0,3}页\s{0,3}[/／,，]?\s{0,3}共\s{0,3}\d{1,9}\s{0,3}页\s{0,3}$", scope="span"),
    ChromeRule("page_marker", "page_number", r"^[-—–]\s{0,3}\d{1,4}\s{0,3}[-—–]$|^第\s{0,3}\d{1,4}\s{0,3}页$|^共\s{0,3}\d{1,4}\s{0,3}页$"),
    ChromeRule("page_marker", "end_marker", r"^[-—–=]{1,6}\s{0,2}(?:END|End|end)\s{0,2}[-—–=]{1,6}$|^(?:THE END|The End)$"),
    ChromeRule("page_marker", "page_fraction", r"^[-—–]?\s{0,3}\d{1,3}\s{0,3}[/／]\s{0,3}\d{1,3}\s{0,3}[-—–]?$", where="outside"),
    ChromeRule("page_marker", "read_more",
               r"^(?:点击)?(?:查看|阅读|展开|显示)(?:更多|全文|剩余全文|余下全文|剩余内容|完整内容)(?:内容)?\s{0,3}[>》»….]{0,6}$"
               r"|^(?:点击|继续)?展开(?:阅读)?全文\s{0,3}[>》»…∨.]{0,6}$|^(?:收起|全文完|查看原文)$"
               r"|^返回\S{1,8}[,，]?\s{0,2}查看更多$|^本文档共\s{0,2}\d{1,4}\s{0,2}页"),
    ChromeRule("page_marker", "preview_left", r"(?:还剩|剩余)\s{0,3}\d{1,9}\s{0,3}页未读|下载文档到电脑|试读已?结束|预览已结束|免费预览已?结束|"
               r"本文档预览结束|想要获取完整内容|共\s{0,3}\d{1,9}\s{0,3}页[，,]?\s{0,3}可(?:免费)?预览\s{0,3}\d{1,9}\s{0,3}页|剩余\s{0,3}\d{1,9}\s{0,3}页可下载",
               scope="tail",
               needs=("未读", "下载文档到电脑", "试读", "预览", "想要获取", "可下载")),
    ChromeRule("page_marker", "continue_reading", r"^(?:\d{1,9}\s{0,3}页未读[,，]?\s{0,3})?继续阅读[.。]?$|^(?:加载中|正在加载|loading)(?:\.{3}|…)?$"),
    ChromeRule("page_marker", "truncation", rf"(?<=[{CJK}A-Za-z0-9，,、])\s?\.{{3,6}}\s{{0,3}}$", scope="span", min_len=20),
    # --- VIP and download banners -------------------------------------------------------------
    ChromeRule("banner", "vip_suffix", r"\s{0,3}(?:VIP|vip)(?:专享|免费|专属|精品)\s{0,3}$", scope="span"),
    ChromeRule("banner", "vip",
               r"VIP专享|VIP免费|VIP会员|开通VIP|开通会员|升级VIP|成为VIP|VIP特权|超级会员|会员免费下载|^VIP$|新客立减|"
               r"限时优惠|限时免费|领取优惠券|优惠券|打开APP|APP内(?:打开|阅读)|下载客户端", max_len=40),
    ChromeRule("banner", "download",
               r"^下载$|下载券|下载积分|积分下载|(?<![\d.])\d{1,9}\s{0,3}积分(?:\s|$)|免费下载|立即下载|付费下载|点击下载|本地下载|"
               r"下载文档|下载此文档|下载本文档|文档下载|下载完整版|完整版下载|下载全文|全文下载|下载word|下载WORD|下载PDF|下载地址|(?<![\d.])\d{1,9}\s{0,3}金币|[￥¥]\s{0,3}\d{1,9}",
               max_len=40),
    # --- contacts and ads --------------------------------------------------------------------
    ChromeRule("contact", "wechat", rf"{WECHAT}\s{{0,3}}(?:号)?\s{{0,3}}[:：]?\s{{0,3}}(?:{IM_ID})", scope="clause",
               needs=WECHAT_WORDS),
    ChromeRule("contact", "add_me", r"(?:加|添加|联系|咨询)(?:客服|作者|小编)?(?:微信|[Vv]信|VX|vx|QQ|qq|薇信|威信)",
               scope="clause",
               needs=WECHAT_WORDS + ("QQ", "qq")),
    ChromeRule("contact", "qq", r"(?:QQ|qq|Q\s?Q|扣扣)(?:群|号)?\s{0,3}[:：]?\s{0,3}[1-9]\d{4,11}", scope="clause",
               needs=("QQ", "qq", "Q Q", "扣扣")),
    ChromeRule("contact", "service_id", r"客服(?:微信|QQ|qq|电话|热线|邮箱|号)?\s{0,3}[:：]?\s{0,3}[A-Za-z0-9_-]{5,}", scope="clause",
               needs=("客服",)),
    ChromeRule("contact", "service_line",
               r"^(?:[•·]\s{0,3})?(?:联系|添加|在线|专属)?客服(?:微信|QQ|电话|中心|热线)?$|扫一扫|扫码(?:关注|添加|加|联系|咨询|下载)|"
               r"长按识别|识别二维码|二维码|关注(?:我们的)?(?:微信)?公众号", max_len=40),
    ChromeRule("contact", "hotline",
               rf"(?:举报|投诉|客服|咨询|服务|合作|广告|商务|代写|代笔)(?:电话|热线|专线|手机)?\s{{0,3}}[:：]?\s{{0,3}}(?:{MOBILE}|{LANDLINE})",
               scope="clause",
               needs=("举报", "投诉", "客服", "咨询", "服务", "合作", "广告", "商务", "代写", "代笔")),
    ChromeRule("contact", "site_email", rf"(?:举报|投诉|客服|投稿|合作|广告|版权|侵权)(?:邮箱|邮件|E-?mail)?\s{{0,3}}[:：]?\s{{0,3}}{EMAIL}",
               scope="clause",
               needs=("@",)),
    ChromeRule("contact", "ghostwriting", r"代写|代笔|(?:论文|材料)(?:发表|代发|期刊).{0,6}(?:请|可)?(?:加|联系|咨询)", scope="clause",
               needs=("代写", "代笔", "发表", "代发", "期刊")),
    ChromeRule("contact", "phone", rf"(?:电话|手机|Tel|TEL|tel|联系方式){C}(?:{MOBILE}|{LANDLINE})|{MOBILE}",
               where="outside", max_len=80),
    ChromeRule("contact", "email", rf"(?:邮箱|E-?mail|email|邮件)?{C}?{EMAIL}", where="outside", max_len=80),
    # --- paid-download and copyright disclaimers ---------------------------------------------
    ChromeRule("disclaimer", "numbered_block",
               rf"^{NUMBERED}\s{{0,3}}(?:当您付费|本站|本网站|如文档|如您|用户|文档(?:只能|仅))", scope="block", max_len=400,
               follow=rf"^{NUMBERED}", follow_inside=True),
    ChromeRule("disclaimer", "site_terms",
               r"当您付费下载|付费(?:下载|前请)|购买了版权|本站(?:所有|仅|只|不|为|是|提供|发布|部分|内容|文档|资源|声明|对|收录|转载)|"
               r"本网站?(?:所有|发布|转载|不对|内容|声明|部分)|本平台(?:所有|不|内容|仅|只)|不代表本(?:站|网|平台)|版权归原作者|"
               r"版权归作者|如有侵权[,，]?(?:请|行为请)?(?:联系|告知|删除|通知)|侵权(?:请)?(?:联系|删除|必删)|侵犯了?您的(?:版权|权益|隐私)|"
               r"(?:该文|本文|文章)?观点仅代表作者|仅代表作者(?:本人|个人)(?:观点|立场)|(?:互联网)?用户自发贡献|给予删除|下载失败|重复下载|不扣分|侵删|违规举报|如若转载|请注明出处|转载请(?:注明|联系)|免责声明|"
               r"未经(?:许可|授权|允许|同意).{0,10}(?:转载|复制|使用|摘编)|文档(?:只能|仅)用于|交易模式|网络存储空间|"
               r"上传人\s{0,3}[(（]含作者[)）]|(?:如|若)有(?:问题|疑问|异议|侵权|不妥)[,，]?\s{0,3}(?:请)?(?:及时)?(?:联系|咨询|告知)(?:在线)?(?:客服|管理员|站长|本站|网站)|合作方或网友|自行鉴别|版权(?:声明|说明)[:：]|版权归属|(?:用户|网友)(?:自行)?上传|上传用户|"
               r"内容提供方|仅供(?:个人)?(?:学习|研究)(?:交流)?(?:使用|之用)?[,，。]?.{0,8}(?:下载|版权|删除)",
               scope="clause", max_len=500,
               needs=("付费", "购买了版权", "本站", "本网", "本平台", "不代表本", "版权", "侵权", "侵删", "侵犯",
                      "违规举报", "转载", "注明出处", "免责声明", "未经", "只能用于", "仅用于", "交易模式", "存储空间",
                      "上传", "合作方", "自行鉴别", "内容提供方", "给予删除", "下载", "不扣分", "仅供", "如有", "若有", "观点仅代表", "仅代表作者", "自发贡献")),
    ChromeRule("disclaimer", "image_source", r"[(（]\s{0,3}图片来源(?:于)?(?:网络|互联网)[^)）]{0,10}[)）]", scope="span",
               needs=("图片来源",)),
    # --- comments ----------------------------------------------------------------------------
    ChromeRule("comment", "box",
               r"^(?:发表评论|我要评论|我来说两句|说两句|我要留言|网友留言|网友评论|评论区|全部评论|最新评论|热门评论|查看评论|发表回复|取消回复|参与评论|写评论|"
               r"请登录后(?:再)?(?:评论|发表)|登录后(?:才能)?(?:评论|发表)|文明上网|理性发言|暂无评论|抢沙发)", max_len=60),
    ChromeRule("comment", "forum_post",
               r"只看该作者|倒序浏览|阅读模式|电梯直达|跳转到指定楼层|使用道具|本帖最后由.{1,30}于.{5,30}编辑|"
               r"^(?:楼主|沙发|板凳|地板|\d{1,9}#|\d{1,9}楼)$|您需要登录后才可以(?:回帖|发帖|下载|查看)|^(?:返回列表|高级模式|快速回复|"
               r"发新帖|回复本帖|只看楼主)$|^查看[:：]\s{0,3}\d{1,9}\s{0,3}[|｜]\s{0,3}回复[:：]\s{0,3}\d{1,9}$|发表于\s{0,3}\d{4}-\d{1,2}-\d{1,2}",
               max_len=120),
    ChromeRule("comment", "count", r"^(?:评论|回复|留言)\s{0,3}(?:[(（]\d{1,9}[)）]|\d{1,9})?$|献花\s{0,3}[(（]\d{1,9}[)）]|转藏到|\d{1,9}\s{0,3}条(?:评论|回复)"),
    # --- related / hot / recommended lists ---------------------------------------------------
    ChromeRule("related_list", "header",
               r"^(?:热门文档|热门推荐|热门文章|热门资料|热点文章|热门搜索|热点推荐|您可能关注的文档|你可能关注的文档|"
               r"您可能感兴趣的?(?:文档|文章|内容)?|你可能感兴趣的?(?:文档|文章|内容)?|可能感兴趣|猜你喜欢|猜您喜欢|相关资源|"
               r"相关文档|相关搜索|相关文章|相关阅读|相关推荐|相关内容|相关资料|相关下载|相关专题|推荐访问|推荐阅读|推荐文章|"
               r"推荐文档|推荐下载|精彩推荐|为您推荐|为你推荐|延伸阅读|扩展阅读|拓展阅读|最新文章|最新文档|最新发布|最近更新|"
               r"精品文档|精选文档|阅读排行|下载排行|排行榜|本周排行|本月排行|大家都在看|看了本文的人还看了|下载该资料的人也在下载|"
               r"下载该资料的人还在阅读|其他人还看了|同类文档|同类资料|更多相关|更多推荐|更多精彩|热门标签|猜你想搜|"
               r"相关热词|相关范文|精品范文|推荐范文|热门范文|往期推荐|往期回顾|往期精选|精彩回顾|相关新闻|热点新闻|新闻排行|图片新闻|精彩图文|点击排行)\s{0,3}[:：]?\s{0,3}(?:>>|》|更多|more|MORE|\.{3}|…)?\s{0,3}$",
               scope="block", follow=LIST_ITEM),
    ChromeRule("related_list", "titled_header",
               r"^[^，。！？]{2,40}?\s{0,3}(?:相关文章|相关阅读|相关推荐|相关范文|推荐阅读|相关文档|相关资料)\s{0,3}[:：]\s{0,3}$",
               scope="block", follow=LIST_ITEM),
    ChromeRule("related_list", "readers_also",
               r"^(?:阅读|下载|浏览|看|读)(?:了|过)?(?:该|本|这篇|此)?(?:文档|文章|资料|内容)的(?:用户|人|网友)(?:还|也|都)(?:在)?"
               r"(?:阅读|下载|看|浏览|喜欢)(?:了)?(?:这些|以下)?(?:文档|文章|资料)?\s{0,3}[:：]?$",
               scope="block", follow=LIST_ITEM),
    ChromeRule("related_list", "ranking_tail",
               r"(?:下载|阅读|浏览|看)(?:了|过)?(?:该|本|此|这篇)(?:资料|文档|文章)的(?:人|用户|网友)(?:也|还|都)在(?:下载|阅读|看|浏览)"
               r"|(?:下载|阅读|浏览|点击)排行(?:榜)?\s{0,3}(?:本周|本月|今日|总榜|周榜|月榜)", scope="tail",
               needs=("的人", "的用户", "的网友", "排行")),
    ChromeRule("related_list", "file_listing", rf"(?:{FILE_ENTRY}\s{{0,3}}){{1,60}}", scope="span", needs=("次下载",)),
    ChromeRule("related_list", "inline_header", r"^(?:推荐|相关|热门|猜你喜欢)[:：].{0,60}[|｜].{0,200}$", max_len=300),
    ChromeRule("related_list", "dated_items",
               rf"^(?:[-•·*▪◆]\s{{0,3}}|\d{{1,2}}[.、]\s{{0,3}})?{DATE}\s{{1,3}}{CLOCK}\s{{0,3}}\S.{{1,100}}$|^(?:[-•·*▪◆]\s{{0,3}})?\S.{{1,80}}?\s{{1,3}}{DATE}\s{{1,3}}{CLOCK}$",
               scope="run", min_run=2, max_len=140),
    ChromeRule("related_list", "dated_titles",
               rf"^(?:[-•·*▪◆]\s{{0,3}}|\d{{1,2}}[.、]\s{{0,3}})?(?:{DATE}|\[{DATE}\])\s{{0,3}}[^，。！？,!?]{{4,60}}$|^(?:[-•·*▪◆]\s{{0,3}})?[^，。！？,!?]{{4,60}}?\s{{0,3}}[(（\[]?{DATE}[)）\]]?$",
               scope="run", where="outside", max_len=90),
    ChromeRule("related_list", "counted_titles",
               r"^(?:[-•·*▪◆]\s{0,3})?[^，。！？,!?]{4,60}?\s{0,3}[(（]\d{1,9}[)）]$|^\S.{0,60}\d{1,9}\s{0,3}次(?:下载|阅读|浏览)|"
               r"^\d{1,9}(?:\.\d{1,9})?\s{0,3}(?:MB|KB|M|K|页)\s{0,3}[|｜]",
               scope="run", where="outside", max_len=90),
    ChromeRule("related_list", "trailing_titles", rf"^(?![一二三四五六七八九十]{{1,4}}、|{NUMBERED}|第[一二三四五六七八九十\d]{{1,4}})"
               rf"(?=.{{0,240}}[{CJK}])[^，。！？；,!?;]{{6,40}}$",
               scope="run", where="after", min_run=3),
    # --- footers -----------------------------------------------------------------------------
    ChromeRule("footer", "icp_copyright",
               r"^(?!.{0,240}。$).{0,240}?(?:ICP(?:备|证|许可)(?:案号)?\s{0,3}[:：]?\s{0,3}[\dA-Z]|公网安备|网安备\s{0,3}\d|经营许可证|增值电信业务|网站标识码|信息网络传播视听|"
               r"(?:互联网)?违法和不良信息举报|不良信息举报|版权所有|All\s{1,3}Rights\s{1,3}Reserved|Copyright|©|\(c\)\s{0,3}\d{4}|"
               r"技术支持[:：]|主办单位[:：].{0,40}承办|建议使用.{0,20}浏览器|分辨率.{0,10}(?:浏览|显示)|^Powered\s{1,3}by|"
               r"Processed\s{1,3}in\s{1,3}[\d.]{1,12}\s{0,3}second|GMT[+-]\d{1,9},\s{0,3}\d{4}-)",
               max_len=240),
    ChromeRule("footer", "editor", r"^[(（\[]?\s{0,3}(?:责任编辑|责编|编辑|校对|审核|值班编辑)[:：][^，。！？]{1,30}[)）\]]?$",
               where="outside", max_len=50),
    # --- "here is what the editor collected for you" lead-ins ---------------------------------
    ChromeRule("lead_in", "editor_collected",
               r"小编|为(?:大家|您|你)(?:精心)?(?:整理|收集|搜集|准备|带来|分享|推荐|汇总|编辑)|以下是.{0,30}(?:范文|精选|汇编|合集)",
               scope="clause", max_len=200,
               needs=("小编", "为大家", "为您", "为你", "以下是")),
    ChromeRule("lead_in", "for_reference",
               r"供(?:大家|您|你)(?:参考|借鉴|阅读|下载)|欢迎(?:阅读|借鉴|参考|下载|收藏)|希望(?:对|能)(?:大家|您|你).{0,6}(?:帮助|有所帮助)|"
               r"^仅供参考[!！。]?$",
               scope="clause", where="outside", max_len=200,
               needs=("供大家", "供您", "供你", "欢迎", "希望", "仅供参考")),
    # --- watermarks injected into sentences ----------------------------------------------------
    ChromeRule("watermark_inline", "brand_slogan_url",
               rf"[{CJK}]{{2,4}}\s{{0,3}}[—–\-|｜]{{1,2}}\s{{0,3}}[{CJK}A-Za-z0-9]{{2,20}}\s{{0,3}}{DOMAIN}", scope="span",
               needs=URL_HINTS),
    ChromeRule("watermark_inline", "visit_url", rf"本文(?:访问|来源|原文|链接)?(?:地址|网址|链接){C}{DOMAIN}", scope="span",
               needs=("本文",)),
    # --- gambling SEO injected into the text ---------------------------------------------------
    ChromeRule("seo_injection", "gambling_brand", rf"【?{SEO_BRAND}】?(?:{SEO_CALL})?", scope="span",
               needs=("金沙", "葡京", "威尼斯人", "永利", "银河", "太阳城", "美高梅", "新濠", "巴黎人", "亚博", "博天堂",
                      "凯发", "利来", "尊龙", "天博", "开云", "万博", "宝马会", "必赢", "彩神", "优德", "乐虎", "百家乐",
                      "贵宾会", "娱乐城", "casino", "Casino", "CASINO", "bet", "BET", "Bet")),
    # --- anti-scraping junk --------------------------------------------------------------------
    ChromeRule("junk", "pinyin_gloss", rf"(?<=[{CJK}])[(（]{PINYIN}[)）]", scope="span", needs=("(", "（")),
    ChromeRule("junk", "crawl_meta",
               r"^(?:\*\*|__)?(?:Last\s{1,3}Crawled|Crawled(?:\s{1,3}(?:at|on))?|Crawl\s{1,3}Date|Retrieved(?:\s{1,3}(?:at|on))?|"
               r"Fetched(?:\s{1,3}(?:at|on))?|Scraped(?:\s{1,3}(?:at|on))?|抓取时间|采集时间|爬取时间|收录时间|快照时间)(?:\*\*|__)?\s{0,3}[:：]",
               max_len=200),
    ChromeRule("junk", "front_matter",
               r"^(?:date|updated|lastmod|tags|categories|category|author|layout|permalink|slug|keywords|description|"
               r"draft|toc|comments|cover|thumbnail|excerpt)\s{0,2}:\s{0,3}\S", where="outside", max_len=160),
    ChromeRule("junk", "separator", r"^(?:[-=*_~—]\s{0,2}){3,80}$", max_len=200),
    ChromeRule("junk", "ascii_tail",
               rf"(?<=[{CJK}。，！？；：”’）)])\s{{0,3}}(?=[A-Za-z0-9]{{0,40}}[a-z])(?=[A-Za-z0-9]{{0,40}}[A-Z])(?=[A-Za-z0-9]{{0,40}}\d)[A-Za-z0-9]{{8,40}}\s{{0,3}}$",
               scope="span"),
    ChromeRule("junk", "script",
               r"^(?:var\s{1,3}\w{1,40}\s{0,3}=\s{0,3}document\.|document\.(?:write|createElement|getElementById)|window\.(?:location|open|onload)|"
               r"<script|<iframe|<ins\s|\(adsbygoogle|_hmt\.push|<div\s|<a\s{1,3}href|<img\s)", max_len=2000),
)

# A domain inside running text: the anchor of repeated inline watermarks.
INLINE_DOMAIN = DOMAIN
# Shortest repeated left context of a domain that counts as an injected brand span.
MIN_WATERMARK_CONTEXT = 2
# Share of CJK characters outside GB2312 above which a line is random rare-character junk.
RARE_CHAR_SHARE = 0.6
RARE_CHAR_MIN = 4
