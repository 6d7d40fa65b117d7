"""The demo organisation: three queues with their workflows, teams and people.

A made-up trading company, 华辰商贸, with an IT operations desk, a customer
service desk and a facilities maintenance desk. Names and workflows are fixed;
only the issues vary with the seed.
"""

from __future__ import annotations

import attrs

from wenti.domain import Role, State, StateCategory, Transition, Workflow
from wenti.i18n import N_

_AGENTS = (Role.AGENT, Role.QUEUE_MANAGER, Role.ADMIN)
_MANAGERS = (Role.QUEUE_MANAGER, Role.ADMIN)
_ANYONE = (Role.REPORTER, *_AGENTS)


@attrs.frozen
class Person:
    username: str
    display_name: str
    role: Role


@attrs.frozen
class DemoQueue:
    key: str
    name: str
    workflow: Workflow
    team_key: str
    team_name: str
    manager: Person
    agents: tuple[Person, ...]
    categories: tuple[str, ...]


def it_workflow() -> Workflow:
    """IT operations: triage, work, wait on the reporter, resolve with a resolution, close."""
    states = (
        State("new", N_("New"), StateCategory.OPEN),
        State("in_progress", N_("In progress"), StateCategory.OPEN),
        State("waiting", N_("Waiting on reporter"), StateCategory.WAITING),
        State("resolved", N_("Resolved"), StateCategory.RESOLVED),
        State("closed", N_("Closed"), StateCategory.CLOSED),
    )
    transitions = (
        Transition("start", N_("Start work"), "new", "in_progress", _AGENTS, ("assignee",)),
        Transition("wait", N_("Wait on reporter"), "in_progress", "waiting", _AGENTS),
        Transition("resume", N_("Resume"), "waiting", "in_progress", _ANYONE),
        Transition("resolve", N_("Resolve"), "in_progress", "resolved", _AGENTS, ("resolution",)),
        Transition("close", N_("Close"), "resolved", "closed", _ANYONE),
        Transition("reopen", N_("Reopen"), "resolved", "in_progress", _ANYONE),
    )
    return Workflow("demo_it", N_("IT operations workflow"), states, transitions, "new")


def cs_workflow() -> Workflow:
    """Customer service: the customer may close; a resolution is required to resolve."""
    states = (
        State("new", N_("New"), StateCategory.OPEN),
        State("in_progress", N_("In progress"), StateCategory.OPEN),
        State("waiting", N_("Waiting on customer"), StateCategory.WAITING),
        State("resolved", N_("Resolved"), StateCategory.RESOLVED),
        State("closed", N_("Closed"), StateCategory.CLOSED),
    )
    transitions = (
        Transition("start", N_("Start work"), "new", "in_progress", _AGENTS),
        Transition("wait", N_("Wait on customer"), "in_progress", "waiting", _AGENTS),
        Transition("resume", N_("Resume"), "waiting", "in_progress", _ANYONE),
        Transition("resolve", N_("Resolve"), "in_progress", "resolved", _AGENTS, ("resolution",)),
        Transition("close", N_("Close"), "resolved", "closed", _ANYONE),
        Transition("reopen", N_("Reopen"), "resolved", "in_progress", _ANYONE),
        Transition("reopen", N_("Reopen"), "closed", "in_progress", _MANAGERS),
    )
    return Workflow("demo_cs", N_("Customer service workflow"), states, transitions, "new")


def fm_workflow() -> Workflow:
    """Facilities maintenance: dispatch to a technician, wait for parts, repair, accept."""
    states = (
        State("new", N_("New"), StateCategory.OPEN),
        State("dispatched", N_("Dispatched"), StateCategory.OPEN),
        State("in_progress", N_("Repairing"), StateCategory.OPEN),
        State("waiting_parts", N_("Waiting for parts"), StateCategory.WAITING),
        State("resolved", N_("Repaired"), StateCategory.RESOLVED),
        State("closed", N_("Accepted"), StateCategory.CLOSED),
    )
    transitions = (
        Transition("dispatch", N_("Dispatch"), "new", "dispatched", _MANAGERS, ("assignee",)),
        Transition("start", N_("Start repair"), "dispatched", "in_progress", _AGENTS),
        Transition("wait", N_("Wait for parts"), "in_progress", "waiting_parts", _AGENTS, ("parts",)),
        Transition("resume", N_("Parts arrived"), "waiting_parts", "in_progress", _AGENTS),
        Transition("resolve", N_("Repaired"), "in_progress", "resolved", _AGENTS, ("resolution",)),
        Transition("close", N_("Accept"), "resolved", "closed", _ANYONE),
        Transition("reopen", N_("Repair again"), "resolved", "in_progress", _ANYONE),
    )
    return Workflow("demo_fm", N_("Maintenance workflow"), states, transitions, "new")


ADMIN = Person("admin", "系统管理员", Role.ADMIN)

QUEUES = (
    DemoQueue(
        key="it",
        name="IT 运维",
        workflow=it_workflow(),
        team_key="it-ops",
        team_name="IT 运维组",
        manager=Person("wang.lei", "王磊", Role.QUEUE_MANAGER),
        agents=(
            Person("zhang.wei", "张伟", Role.AGENT),
            Person("li.na", "李娜", Role.AGENT),
            Person("chen.hao", "陈浩", Role.AGENT),
            Person("zhao.min", "赵敏", Role.AGENT),
        ),
        categories=("网络", "账号与权限", "邮箱", "打印机", "电脑硬件", "业务系统", "数据库"),
    ),
    DemoQueue(
        key="cs",
        name="客户服务",
        workflow=cs_workflow(),
        team_key="cs-team",
        team_name="客服组",
        manager=Person("liu.fang", "刘芳", Role.QUEUE_MANAGER),
        agents=(
            Person("sun.li", "孙丽", Role.AGENT),
            Person("zhou.jie", "周杰", Role.AGENT),
            Person("wu.ting", "吴婷", Role.AGENT),
            Person("xu.qiang", "徐强", Role.AGENT),
            Person("hu.yue", "胡悦", Role.AGENT),
        ),
        categories=("物流配送", "退换货", "产品质量", "发票", "账户与支付", "投诉建议"),
    ),
    DemoQueue(
        key="fm",
        name="设备维修",
        workflow=fm_workflow(),
        team_key="fm-team",
        team_name="维修组",
        manager=Person("ma.jun", "马军", Role.QUEUE_MANAGER),
        agents=(
            Person("guo.qiang", "郭强", Role.AGENT),
            Person("he.jian", "何健", Role.AGENT),
            Person("luo.bin", "罗斌", Role.AGENT),
        ),
        categories=("空调暖通", "电梯", "照明与电路", "给排水", "生产设备", "门禁与安防"),
    ),
)

# Staff who report IT and facilities problems, and customers who contact service.
EMPLOYEES = (
    Person("yang.xue", "杨雪", Role.REPORTER),
    Person("huang.tao", "黄涛", Role.REPORTER),
    Person("lin.jing", "林静", Role.REPORTER),
    Person("zheng.kai", "郑凯", Role.REPORTER),
    Person("xie.yu", "谢雨", Role.REPORTER),
    Person("tang.ming", "唐明", Role.REPORTER),
    Person("han.bing", "韩冰", Role.REPORTER),
    Person("feng.lan", "冯兰", Role.REPORTER),
    Person("cao.yang", "曹阳", Role.REPORTER),
    Person("deng.hui", "邓慧", Role.REPORTER),
    Person("peng.fei", "彭飞", Role.REPORTER),
    Person("jiang.li", "蒋丽", Role.REPORTER),
)
CUSTOMERS = (
    Person("kehu.zhao", "赵先生", Role.REPORTER),
    Person("kehu.qian", "钱女士", Role.REPORTER),
    Person("kehu.sun", "孙先生", Role.REPORTER),
    Person("kehu.li", "李女士", Role.REPORTER),
    Person("kehu.zhou", "周先生", Role.REPORTER),
    Person("kehu.wu", "吴女士", Role.REPORTER),
    Person("kehu.zheng", "郑先生", Role.REPORTER),
    Person("kehu.wang", "王女士", Role.REPORTER),
    Person("kehu.feng", "冯先生", Role.REPORTER),
    Person("kehu.chen", "陈女士", Role.REPORTER),
)


def everyone() -> list[Person]:
    people = [ADMIN]
    for queue in QUEUES:
        people.append(queue.manager)
        people.extend(queue.agents)
    people.extend(EMPLOYEES)
    people.extend(CUSTOMERS)
    return people
