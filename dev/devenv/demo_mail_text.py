"""What the demo mail says: people, subjects and sentences per language.

Plain data, kept apart from the MIME assembly in demo_mail.py. Placeholders
in braces ({n}, {product}, {order}, {inv}, {date}, {amount}, {year}, {pct})
are filled per thread, so a reply chain talks about the same order.
`attached` is said only by messages that carry attachments.

header_modes: how a non-ASCII header is written, with weights:
('raw',) is RFC 6532 UTF-8 (used only in Subject, see demo_mail.py),
(charset, 'B'|'Q') an RFC 2047 encoded word.
body_modes: (charset, Content-Transfer-Encoding) with weights; a charset
that cannot hold the text falls back to UTF-8.
"""

LANGUAGES = {
    'en': dict(
        weight=30,
        tz_hours=(-5, 0, -8, 1),
        header_modes=[(('utf-8', 'Q'), 3), (('utf-8', 'B'), 1), (('raw',), 1)],
        body_modes=[(('us-ascii', '7bit'), 3), (('utf-8', 'quoted-printable'), 2), (('utf-8', '8bit'), 1)],
        reply_prefix='Re: ', forward_prefix='Fwd: ',
        greetings=['Hi {first},', 'Dear {first},', 'Hello {first},'],
        intros=[],
        closings=['Best regards,', 'Kind regards,', 'Thanks,', 'Many thanks,'],
        quote_intro='On {date}, {name} wrote:',
        date_format='{d} {mon_en} {y}',
        amount=lambda v: '${:,}'.format(v),
        lowercase_after_greeting=False,
        contacts=[
            ('John Carter', 'John', 'john.carter', 'northwind-traders.example', 'Northwind Traders'),
            ('Emily Chen', 'Emily', 'emily.chen', 'bluepeak-solutions.example', 'BluePeak Solutions'),
            ("Michael O'Brien", 'Michael', 'mobrien', 'harbor-logistics.example', 'Harbor Logistics'),
            ('Sarah Johnson', 'Sarah', 'sarah.johnson', 'greenfield-foods.example', 'Greenfield Foods'),
            ('David Miller', 'David', 'd.miller', 'northwind-traders.example', 'Northwind Traders'),
        ],
        products=['stainless steel valves', 'LED panels', 'packaging film', 'hydraulic pumps',
                  'office chairs'],
        subjects=[
            'Quote request for {n} units of {product}',
            'Invoice {inv} \u2013 payment reminder',
            'Meeting next Tuesday',
            'Order {order}: delivery date',
            'Contract renewal for {year}',
            'Follow-up on our call',
            'Samples of {product}',
            'Price list {year}',
        ],
        openers=[
            'I hope you are doing well. We are planning a new order and would like to receive your '
            'best offer for {n} units of {product}, delivered to our warehouse in Rotterdam.',
            'Could you please send us an updated quote including shipping costs? Our budget for '
            'this quarter is around {amount}.',
            'Following our phone call yesterday, I am sending you the details we discussed. Please '
            'let me know if anything is missing.',
            'We have not yet received payment for invoice {inv}, which was due on {date}. Could you '
            'check with your accounts department?',
            'Would you be available for a short meeting next week to go through the open points? '
            'Tuesday or Thursday afternoon would work for us.',
            'Our customer is asking about the delivery date for order {order}. Can you confirm that '
            'it will ship before {date}?',
        ],
        attached='Attached you will find the documents for your review.',
        replies=[
            'Thanks for your message. I have forwarded your request to our sales team and will '
            'come back to you by the end of the week.',
            'That sounds good to me. Let\u2019s go ahead with the quantities you proposed.',
            'Sorry for the delay. The shipment left our warehouse this morning; the tracking '
            'number will follow.',
            'I checked with accounting: the payment was released yesterday and should arrive '
            'within two business days.',
            'Thursday at 3 pm works for me. I will send a calendar invitation.',
            'Could you clarify whether the price includes installation?',
            'Thank you, received. I will review the documents and get back to you.',
        ],
        newsletters=[
            ('TechDigest Weekly', 'noreply@news.techdigest.example', 'weekly.techdigest.example',
             ['This week in tech: {n} stories you should not miss', 'Your weekly digest \u2013 {n} new articles',
              'Special report: the future of {product}']),
        ],
        articles=[
            ('New generation of {product}', 'Manufacturers report {pct} % lower energy use compared to last year\u2019s models.'),
            ('Supply chains in {year}', 'Shipping times are back to normal on most routes, our survey of {n} companies shows.'),
            ('Five tips for better meetings', 'Short agendas, clear owners and written follow-ups save everyone time.'),
        ],
        unsubscribe='You receive this newsletter because you subscribed on our website. Unsubscribe: {url}',
    ),
    'de': dict(
        weight=18,
        tz_hours=(1, 2),
        header_modes=[(('iso-8859-1', 'Q'), 4), (('utf-8', 'Q'), 3), (('utf-8', 'B'), 2), (('raw',), 1)],
        body_modes=[(('iso-8859-1', 'quoted-printable'), 3), (('utf-8', 'quoted-printable'), 3),
                    (('utf-8', '8bit'), 1), (('utf-8', 'base64'), 1)],
        reply_prefix='AW: ', forward_prefix='WG: ',
        greetings=['Hallo {first},', 'Guten Tag {name},'],
        intros=[],
        closings=['Viele Grüße', 'Mit freundlichen Grüßen', 'Beste Grüße'],
        quote_intro='Am {date} schrieb {name}:',
        date_format='{d:02d}.{m:02d}.{y}',
        amount=lambda v: '{:,} \u20ac'.format(v).replace(',', '.'),
        lowercase_after_greeting=True,
        contacts=[
            ('Jürgen Müller', 'Jürgen', 'j.mueller', 'mueller-maschinenbau.example', 'Müller Maschinenbau GmbH'),
            ('Anna Schröder', 'Anna', 'anna.schroeder', 'schroeder-logistik.example', 'Schröder Logistik AG'),
            ('Klaus Weiß', 'Klaus', 'k.weiss', 'weiss-elektro.example', 'Weiß Elektrotechnik'),
            ('Petra Groß', 'Petra', 'p.gross', 'gross-partner.example', 'Groß & Partner'),
            ('Lukas Bäcker', 'Lukas', 'lukas.baecker', 'mueller-maschinenbau.example', 'Müller Maschinenbau GmbH'),
        ],
        products=['Edelstahlventile', 'Hydraulikpumpen', 'Förderbänder', 'Schaltschränke', 'Bürostühle'],
        subjects=[
            'Angebot für {n} Stück {product}',
            'Rechnung Nr. {inv} \u2013 Zahlungserinnerung',
            'Termin nächste Woche',
            'Lieferverzögerung bei Auftrag {order}',
            'Rahmenvertrag {year}',
            'Rückfrage zu Ihrem Angebot',
            'Muster für {product}',
        ],
        openers=[
            'Wir planen eine neue Bestellung und bitten um Ihr Angebot für {n} Stück {product}, '
            'Lieferung frei Haus nach München.',
            'Könnten Sie uns bitte ein aktualisiertes Angebot inklusive Versandkosten schicken? '
            'Unser Budget für dieses Quartal liegt bei etwa {amount}.',
            'Wie gestern telefonisch besprochen, sende ich Ihnen die Unterlagen. Bitte geben Sie '
            'mir Bescheid, falls etwas fehlt.',
            'Leider ist die Zahlung für die Rechnung {inv} noch nicht bei uns eingegangen. Sie war '
            'am {date} fällig.',
            'Hätten Sie nächste Woche Zeit für ein kurzes Gespräch über die offenen Punkte? '
            'Dienstag oder Donnerstag Nachmittag würde uns gut passen.',
            'Unser Kunde fragt nach dem Liefertermin für den Auftrag {order}. Können Sie bestätigen, '
            'dass die Ware vor dem {date} verschickt wird?',
        ],
        attached='Anbei finden Sie die Unterlagen zur Prüfung.',
        replies=[
            'Vielen Dank für Ihre Nachricht. Ich habe Ihre Anfrage an unseren Vertrieb '
            'weitergeleitet und melde mich bis Ende der Woche.',
            'Das passt für uns. Wir gehen mit den vorgeschlagenen Mengen weiter.',
            'Entschuldigen Sie die Verzögerung. Die Sendung hat heute Morgen unser Lager verlassen, '
            'die Sendungsnummer folgt.',
            'Ich habe mit der Buchhaltung gesprochen: Die Zahlung wurde gestern freigegeben und '
            'sollte in zwei Werktagen eingehen.',
            'Am Donnerstag um 15 Uhr habe ich Zeit. Ich schicke Ihnen eine Einladung.',
            'Können Sie bitte kurz klären, ob der Preis die Montage einschließt?',
            'Danke, ist angekommen. Ich prüfe die Unterlagen und melde mich.',
        ],
        newsletters=[
            ('Büroshop Angebote', 'noreply@angebote.bueroshop.example', 'angebote.bueroshop.example',
             ['Nur heute: {pct} % Rabatt auf Bürostühle', 'Ihre Wochenangebote sind da',
              'Neu im Sortiment: {product}']),
        ],
        articles=[
            ('{product} im Test', 'Unsere Experten haben {n} Modelle verglichen \u2013 das Ergebnis überrascht.'),
            ('Frühbucherrabatt', 'Bis Ende des Monats sparen Sie {pct} % auf alle Bestellungen über 500 \u20ac.'),
            ('Ergonomie im Büro', 'So richten Sie Ihren Arbeitsplatz gesund und bequem ein.'),
        ],
        unsubscribe='Sie erhalten diesen Newsletter, weil Sie sich angemeldet haben. Abmelden: {url}',
    ),
    'fr': dict(
        weight=12,
        tz_hours=(1, 2),
        header_modes=[(('iso-8859-1', 'Q'), 2), (('iso-8859-15', 'Q'), 1), (('utf-8', 'B'), 3),
                      (('utf-8', 'Q'), 2), (('raw',), 1)],
        body_modes=[(('iso-8859-15', 'quoted-printable'), 2), (('utf-8', 'quoted-printable'), 3),
                    (('windows-1252', 'quoted-printable'), 1), (('utf-8', '8bit'), 1)],
        reply_prefix='RE : ', forward_prefix='TR : ',
        greetings=['Bonjour {first},', 'Bonjour {name},', 'Madame, Monsieur,'],
        intros=[],
        closings=['Cordialement,', 'Bien cordialement,', 'Bonne journée,'],
        quote_intro='Le {date}, {name} a écrit\u00a0:',
        date_format='{d:02d}/{m:02d}/{y}',
        amount=lambda v: '{:,}\u00a0\u20ac'.format(v).replace(',', '\u00a0'),
        lowercase_after_greeting=False,
        contacts=[
            ('François Dupont', 'François', 'f.dupont', 'dupont-industrie.example', 'Dupont Industrie SA'),
            ('Hélène Lefèvre', 'Hélène', 'helene.lefevre', 'lefevre-conseil.example', 'Lefèvre Conseil'),
            ('Gaëlle Moreau', 'Gaëlle', 'g.moreau', 'atelier-moreau.example', 'Atelier Moreau'),
            ('Jérôme Bérenger', 'Jérôme', 'jerome.berenger', 'dupont-industrie.example', 'Dupont Industrie SA'),
        ],
        products=['vannes en inox', 'pompes hydrauliques', 'panneaux LED', 'films d\u2019emballage',
                  'chaises de bureau'],
        subjects=[
            'Demande de devis pour {n} unités de {product}',
            'Facture n° {inv} \u2013 relance',
            'Réunion de la semaine prochaine',
            'Retard de livraison \u2013 commande {order}',
            'Renouvellement du contrat {year}',
            'Suite à notre appel',
            'Échantillons de {product}',
        ],
        openers=[
            'Nous préparons une nouvelle commande et souhaiterions recevoir votre meilleure offre '
            'pour {n} unités de {product}, livrées à notre entrepôt de Lyon.',
            'Pourriez-vous nous envoyer un devis actualisé, frais de port compris\u00a0? Notre budget '
            'pour ce trimestre est d\u2019environ {amount}.',
            'Suite à notre échange téléphonique d\u2019hier, je vous envoie les éléments dont nous '
            'avons parlé. N\u2019hésitez pas à me dire s\u2019il manque quelque chose.',
            'Sauf erreur de notre part, la facture {inv}, échue le {date}, n\u2019a pas encore été réglée.',
            'Seriez-vous disponible la semaine prochaine pour faire le point sur les sujets en '
            'cours\u00a0? Mardi ou jeudi après-midi nous conviendrait.',
            'Notre client nous demande la date de livraison de la commande {order}. Pouvez-vous '
            'confirmer un envoi avant le {date}\u00a0?',
        ],
        attached='Vous trouverez ci-joint les documents pour validation.',
        replies=[
            'Merci pour votre message. J\u2019ai transmis votre demande à notre service commercial, '
            'je reviens vers vous d\u2019ici la fin de la semaine.',
            'Cela me convient. Nous partons sur les quantités proposées.',
            'Désolé pour le retard. Le colis a quitté notre entrepôt ce matin, le numéro de suivi suivra.',
            'J\u2019ai vérifié auprès de la comptabilité\u00a0: le paiement a été effectué hier et '
            'devrait arriver sous deux jours ouvrés.',
            'Jeudi à 15\u00a0h me convient parfaitement. Je vous envoie une invitation.',
            'Pourriez-vous préciser si le prix comprend l\u2019installation\u00a0?',
            'Bien reçu, merci. Je regarde les documents et je reviens vers vous.',
        ],
        newsletters=[
            ('La Lettre du Commerce', 'no-reply@lettre-commerce.example', 'hebdo.lettre-commerce.example',
             ['Les actualités de la semaine', 'Événement\u00a0: salon de l\u2019industrie {year}',
              'Dossier spécial\u00a0: {product}']),
        ],
        articles=[
            ('Salon de l\u2019industrie {year}', 'Plus de {n} exposants attendus à Lyon en septembre.'),
            ('Marché des {product}', 'Les prix ont baissé de {pct}\u00a0% sur un an selon notre enquête.'),
            ('Export\u00a0: nouvelles règles douanières', 'Ce qui change pour les PME au 1er janvier.'),
        ],
        unsubscribe='Vous recevez cette lettre car vous êtes inscrit sur notre site. Se désinscrire\u00a0: {url}',
    ),
    'es': dict(
        weight=12,
        tz_hours=(1, 2, -6),
        header_modes=[(('iso-8859-1', 'Q'), 3), (('windows-1252', 'Q'), 1), (('utf-8', 'Q'), 2),
                      (('utf-8', 'B'), 2), (('raw',), 1)],
        body_modes=[(('iso-8859-1', 'quoted-printable'), 3), (('utf-8', 'quoted-printable'), 3),
                    (('utf-8', 'base64'), 1)],
        reply_prefix='RE: ', forward_prefix='RV: ',
        greetings=['Hola {first}:', 'Buenos días, {first}:', 'Estimado/a {name}:'],
        intros=[],
        closings=['Saludos cordiales,', 'Un saludo,', 'Atentamente,'],
        quote_intro='El {date}, {name} escribió:',
        date_format='{d:02d}/{m:02d}/{y}',
        amount=lambda v: '{:,} \u20ac'.format(v).replace(',', '.'),
        lowercase_after_greeting=False,
        contacts=[
            ('José García', 'José', 'jose.garcia', 'garcia-hermanos.example', 'García Hermanos S.L.'),
            ('María Fernández', 'María', 'm.fernandez', 'iberica-logistica.example', 'Ibérica Logística'),
            ('Iñaki Muñoz', 'Iñaki', 'inaki.munoz', 'munoz-ingenieria.example', 'Muñoz Ingeniería'),
            ('Lucía Pérez', 'Lucía', 'lucia.perez', 'garcia-hermanos.example', 'García Hermanos S.L.'),
        ],
        products=['válvulas de acero inoxidable', 'bombas hidráulicas', 'paneles LED',
                  'película de embalaje', 'sillas de oficina'],
        subjects=[
            'Solicitud de presupuesto para {n} unidades de {product}',
            'Factura n.º {inv} \u2013 recordatorio de pago',
            'Reunión la próxima semana',
            'Retraso en la entrega del pedido {order}',
            'Renovación del contrato {year}',
            'Seguimiento de nuestra llamada',
            '¿Muestras de {product}?',
        ],
        openers=[
            'Estamos preparando un nuevo pedido y nos gustaría recibir su mejor oferta para {n} '
            'unidades de {product}, con entrega en nuestro almacén de Valencia.',
            '¿Podrían enviarnos un presupuesto actualizado con los gastos de envío incluidos? '
            'Nuestro presupuesto para este trimestre ronda los {amount}.',
            'Tal como hablamos ayer por teléfono, le envío la información que comentamos. Avíseme '
            'si falta algo.',
            'Todavía no hemos recibido el pago de la factura {inv}, que vencía el {date}. ¿Podría '
            'consultarlo con su departamento de contabilidad?',
            '¿Tendría tiempo la próxima semana para una breve reunión sobre los temas pendientes? '
            'El martes o el jueves por la tarde nos vendría bien.',
            'Nuestro cliente pregunta por la fecha de entrega del pedido {order}. ¿Puede confirmar '
            'que saldrá antes del {date}?',
        ],
        attached='Adjunto le envío los documentos para su revisión.',
        replies=[
            'Gracias por su mensaje. He enviado su solicitud a nuestro equipo comercial y le '
            'responderé antes del fin de semana.',
            'Me parece bien. Seguimos adelante con las cantidades propuestas.',
            'Disculpe el retraso. El envío salió de nuestro almacén esta mañana; le enviaré el '
            'número de seguimiento.',
            'He consultado con contabilidad: el pago se realizó ayer y debería llegar en dos días hábiles.',
            'El jueves a las 15:00 me viene perfecto. Le envío una invitación.',
            '¿Podría aclararme si el precio incluye la instalación?',
            'Recibido, muchas gracias. Reviso los documentos y le digo algo.',
        ],
        newsletters=[
            ('Ofertas Ibéricas', 'noreply@ofertas-ibericas.example', 'ofertas.ofertas-ibericas.example',
             ['¡Rebajas de temporada: hasta un {pct} % de descuento!', 'Novedades de la semana',
              'Última oportunidad: {product} a precio especial']),
        ],
        articles=[
            ('{product} con descuento', 'Hasta un {pct} % de descuento solo esta semana.'),
            ('Envío gratuito', 'En pedidos superiores a 50 \u20ac, a toda la península.'),
            ('Nuevo catálogo {year}', 'Más de {n} productos nuevos para su oficina y su almacén.'),
        ],
        unsubscribe='Recibe este boletín porque se suscribió en nuestra web. Darse de baja: {url}',
    ),
    'ja': dict(
        weight=10,
        tz_hours=(9,),
        header_modes=[(('iso-2022-jp', 'B'), 4), (('utf-8', 'B'), 3), (('shift_jis', 'B'), 1), (('raw',), 1)],
        body_modes=[(('iso-2022-jp', '7bit'), 3), (('utf-8', 'base64'), 3), (('utf-8', '8bit'), 1)],
        reply_prefix='Re: ', forward_prefix='Fw: ',
        greetings=['{first}様', '{company}\n{first}様'],
        intros=['いつもお世話になっております。', 'お世話になっております。'],
        closings=['よろしくお願いいたします。', '引き続きよろしくお願い申し上げます。'],
        quote_intro='{date} {name} さんは書きました:',
        date_format='{y}年{m}月{d}日',
        amount=lambda v: '{:,}円'.format(v * 100),
        lowercase_after_greeting=False,
        contacts=[
            ('山田 太郎', '山田', 't.yamada', 'sakura-shoji.example', 'さくら商事株式会社'),
            ('佐藤 花子', '佐藤', 'hanako.sato', 'fujimoto-kogyo.example', '藤本工業株式会社'),
            ('鈴木 一郎', '鈴木', 'suzuki', 'tokai-buhin.example', '東海部品株式会社'),
            ('高橋 美咲', '高橋', 'm.takahashi', 'sakura-shoji.example', 'さくら商事株式会社'),
        ],
        products=['ステンレスバルブ', '油圧ポンプ', 'LEDパネル', '包装フィルム', 'オフィスチェア'],
        subjects=[
            '{product}{n}個のお見積りのお願い',
            '請求書番号{inv}のお支払いについて',
            '来週のお打ち合わせの件',
            '注文番号{order}の納期について',
            '{year}年度の契約更新について',
            '先日のお電話の件',
            '{product}のサンプルについて',
        ],
        openers=[
            '新規発注を検討しており、{product}{n}個について御社のお見積りをお願いできますでしょうか。'
            '納品先は大阪の倉庫となります。',
            '送料を含めた最新のお見積りをお送りいただけますと幸いです。今期の予算はおよそ{amount}です。',
            '昨日お電話でお話しした件について、資料をお送りいたします。不足があればお知らせください。',
            '請求書{inv}（お支払期限：{date}）のご入金がまだ確認できておりません。'
            'お手数ですがご確認いただけますでしょうか。',
            '来週、進行中の案件について短いお打ち合わせのお時間をいただけますでしょうか。'
            '火曜日か木曜日の午後ですと助かります。',
            'お客様から注文番号{order}の納期について問い合わせがありました。'
            '{date}までに出荷可能かご確認いただけますか。',
        ],
        attached='確認用の資料を添付いたしましたので、ご査収ください。',
        replies=[
            'ご連絡ありがとうございます。営業担当に確認のうえ、今週中にご回答いたします。',
            'その内容で問題ございません。ご提案の数量で進めさせていただきます。',
            '遅くなり申し訳ございません。本日午前に出荷いたしましたので、追跡番号は追ってお知らせいたします。',
            '経理に確認いたしました。昨日お支払い手続きが完了しており、2営業日以内に着金の予定です。',
            '木曜日の15時で問題ございません。招待状をお送りいたします。',
            '価格に設置費用が含まれているかご教示いただけますでしょうか。',
            '資料を拝受いたしました。確認のうえ改めてご連絡いたします。',
        ],
        newsletters=[
            ('さくらマーケット', 'no-reply@sakura-market.example', 'news.sakura-market.example',
             ['【期間限定】全品{pct}%オフセール開催中', '今週のおすすめ商品のご案内', '新商品：{product}入荷のお知らせ']),
        ],
        articles=[
            ('{product}が{pct}%オフ', '今週末までの期間限定セールです。'),
            ('送料無料キャンペーン', '5,000円以上のご注文で送料が無料になります。'),
            ('新生活応援フェア', '{n}点以上の新商品をご用意しました。'),
        ],
        unsubscribe='このメールは会員登録いただいた方にお送りしています。配信停止：{url}',
    ),
    'zh': dict(
        weight=10,
        tz_hours=(8,),
        header_modes=[(('gb2312', 'B'), 3), (('gbk', 'B'), 1), (('utf-8', 'B'), 3), (('raw',), 1)],
        body_modes=[(('gb2312', 'base64'), 2), (('gbk', 'base64'), 1), (('utf-8', 'base64'), 3),
                    (('utf-8', '8bit'), 1)],
        reply_prefix='回复：', forward_prefix='转发：',
        greetings=['{first}，您好：', '尊敬的{first}：'],
        intros=[],
        closings=['此致\n敬礼', '谢谢！', '祝好'],
        quote_intro='{name} 于 {date} 写道：',
        date_format='{y}年{m}月{d}日',
        amount=lambda v: '{:,}元'.format(v * 7),
        lowercase_after_greeting=False,
        contacts=[
            ('王伟', '王经理', 'wang.wei', 'huaxin-tech.example', '华信科技有限公司'),
            ('李娜', '李女士', 'li.na', 'dongfang-trade.example', '东方贸易有限公司'),
            ('张敏', '张经理', 'zhang.min', 'huaxin-tech.example', '华信科技有限公司'),
            ('陈静', '陈女士', 'chenjing', 'changjiang-logistics.example', '长江物流有限公司'),
        ],
        products=['不锈钢阀门', '液压泵', 'LED面板', '包装薄膜', '办公椅'],
        subjects=[
            '关于{n}件{product}的报价请求',
            '发票{inv}付款提醒',
            '下周会议安排',
            '订单{order}交货延迟',
            '{year}年合同续签',
            '关于昨天电话沟通的事项',
            '{product}样品',
        ],
        openers=[
            '我们正在准备新的采购订单，希望贵公司就{n}件{product}提供最优报价，交货地点为我司上海仓库。',
            '能否请您发送一份包含运费的最新报价？我们本季度的预算约为{amount}。',
            '根据昨天的电话沟通，现将相关资料发送给您。如有遗漏，请告知。',
            '我们尚未收到发票{inv}的付款，该发票已于{date}到期，请您与财务部门核实。',
            '下周您是否方便安排一次简短的会议，讨论一下未决事项？周二或周四下午都可以。',
            '我们的客户询问订单{order}的交货日期，请确认能否在{date}之前发货。',
        ],
        attached='附件是相关文件，请查收。',
        replies=[
            '感谢您的来信。我已将您的需求转给销售团队，本周内给您答复。',
            '没有问题，我们按照您建议的数量执行。',
            '抱歉回复晚了。货物已于今天上午发出，物流单号稍后发给您。',
            '我已与财务部门确认，款项已于昨天支付，预计两个工作日内到账。',
            '周四下午三点可以，我会发送会议邀请。',
            '请问价格是否包含安装费用？',
            '文件已收到，谢谢。我看完后再与您联系。',
        ],
        newsletters=[
            ('华信科技资讯', 'noreply@news.huaxin-tech.example', 'news.huaxin-tech.example',
             ['本周行业资讯精选', '新品发布：智能{product}', '限时优惠：全场{pct}折起']),
        ],
        articles=[
            ('{product}新品上市', '能耗降低{pct}%，欢迎咨询。'),
            ('{year}年行业展会', '预计将有{n}家企业参展。'),
            ('客户服务升级', '全国服务热线现已支持全天候咨询。'),
        ],
        unsubscribe='您收到此邮件是因为您订阅了我们的资讯。退订：{url}',
    ),
    'ar': dict(
        weight=8,
        tz_hours=(4, 3, 2),
        header_modes=[(('windows-1256', 'B'), 2), (('iso-8859-6', 'B'), 1), (('utf-8', 'B'), 4), (('raw',), 1)],
        body_modes=[(('utf-8', 'base64'), 3), (('windows-1256', 'quoted-printable'), 2),
                    (('utf-8', 'quoted-printable'), 1)],
        reply_prefix='رد: ', forward_prefix='إعادة توجيه: ',
        greetings=['مرحباً {first}،', 'السلام عليكم {first}،'],
        intros=[],
        closings=['مع أطيب التحيات،', 'وتفضلوا بقبول فائق الاحترام،', 'شكراً لكم،'],
        quote_intro='في {date}، كتب {name}:',
        date_format='{d:02d}/{m:02d}/{y}',
        amount=lambda v: '{:,} درهم'.format(v * 4),
        lowercase_after_greeting=False,
        contacts=[
            ('محمد العلي', 'محمد', 'm.alali', 'gulf-trading.example', 'شركة الخليج للتجارة'),
            ('فاطمة الزهراء', 'فاطمة', 'f.alzahraa', 'nile-industries.example', 'النيل للصناعات'),
            ('أحمد حسن', 'أحمد', 'ahmed.hassan', 'gulf-trading.example', 'شركة الخليج للتجارة'),
            ('ليلى منصور', 'ليلى', 'layla.mansour', 'cedar-logistics.example', 'الأرز للخدمات اللوجستية'),
        ],
        products=['صمامات الفولاذ المقاوم للصدأ', 'المضخات الهيدروليكية', 'ألواح الإضاءة LED',
                  'أغشية التغليف', 'كراسي المكاتب'],
        subjects=[
            'طلب عرض سعر لعدد {n} من {product}',
            'تذكير بسداد الفاتورة رقم {inv}',
            'اجتماع الأسبوع القادم',
            'تأخير في تسليم الطلب رقم {order}',
            'تجديد العقد لعام {year}',
            'متابعة لمكالمتنا الهاتفية',
            'عينات من {product}',
        ],
        openers=[
            'نحن بصدد إعداد طلب شراء جديد، ونرجو تزويدنا بأفضل عرض سعر لعدد {n} من {product} '
            'مع التسليم إلى مستودعنا في دبي.',
            'هل يمكنكم إرسال عرض سعر محدّث يشمل تكاليف الشحن؟ ميزانيتنا لهذا الربع تبلغ نحو {amount}.',
            'بناءً على مكالمتنا الهاتفية أمس، أرسل إليكم التفاصيل التي ناقشناها. يرجى إبلاغي إذا '
            'كان هناك أي نقص.',
            'لم نستلم بعد قيمة الفاتورة رقم {inv} التي كان موعد استحقاقها {date}. نرجو التحقق من '
            'ذلك مع قسم الحسابات لديكم.',
            'هل لديكم وقت الأسبوع القادم لاجتماع قصير لمراجعة النقاط المفتوحة؟ يناسبنا يوم الثلاثاء '
            'أو الخميس بعد الظهر.',
            'يسأل عميلنا عن موعد تسليم الطلب رقم {order}. هل يمكنكم تأكيد الشحن قبل {date}؟',
        ],
        attached='تجدون في المرفقات المستندات للمراجعة.',
        replies=[
            'شكراً على رسالتكم. لقد أحلت طلبكم إلى فريق المبيعات وسأعود إليكم قبل نهاية الأسبوع.',
            'هذا مناسب لنا. سنمضي قدماً بالكميات المقترحة.',
            'نعتذر عن التأخير. غادرت الشحنة مستودعنا صباح اليوم، وسنرسل رقم التتبع لاحقاً.',
            'تحققت مع قسم المحاسبة: تم تحويل المبلغ أمس ومن المتوقع وصوله خلال يومي عمل.',
            'يوم الخميس الساعة الثالثة عصراً مناسب لي. سأرسل لكم دعوة.',
            'هل يمكنكم توضيح ما إذا كان السعر يشمل التركيب؟',
            'تم الاستلام، شكراً لكم. سأراجع المستندات وأعود إليكم.',
        ],
        newsletters=[
            ('نشرة الخليج للأعمال', 'noreply@gulf-business.example', 'news.gulf-business.example',
             ['أخبار الأعمال لهذا الأسبوع', 'عروض خاصة: خصم {pct}٪ على {product}', 'معرض الصناعة {year}']),
        ],
        articles=[
            ('معرض الصناعة {year}', 'يشارك أكثر من {n} عارض في دورة هذا العام.'),
            ('أسعار {product}', 'انخفضت الأسعار بنسبة {pct}٪ مقارنة بالعام الماضي.'),
            ('نصائح للتصدير', 'ما الذي تحتاج إلى معرفته قبل شحن بضائعك إلى الخارج.'),
        ],
        unsubscribe='تصلك هذه النشرة لأنك مشترك في موقعنا. لإلغاء الاشتراك: {url}',
    ),
}

# Languages whose text has no spaces to wrap at.
CJK = frozenset(('ja', 'zh'))

MONTHS_EN = ('Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec')

# Where the mailbox owner's own signature points; any owner gets it.
OWNER_TITLE = 'Sales Manager'
OWNER_COMPANY = 'Demo Trading Ltd.'

MAILERS = (
    ('User-Agent', 'Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.6.0'),
    ('X-Mailer', 'Microsoft Outlook 16.0'),
    ('X-Mailer', 'Apple Mail (2.3731.500.231)'),
    ('User-Agent', 'Roundcube Webmail/1.6.5'),
    (None, None),
)
